"""genseq/cli/errors.report: one line for any failure, whichever family of usage-error classes raised it."""

from __future__ import annotations

import errno
import os

import click
import pytest
from typer._click import exceptions as typer_click

from genseq.cli.errors import one_line, report
from genseq.core.errors import GenseqError, quiet_native_stderr


def reported(exc, capsys) -> tuple[int, list[str]]:
    code = report(exc)
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("family", [click.exceptions, typer_click], ids=["click", "typer"])
@pytest.mark.parametrize("make, expected", [
    (lambda f: f.NoSuchOption("--bogus"), "--bogus: no such option"),
    (lambda f: f.BadParameter("'abc' is not a valid integer.", param_hint="'--top-k'"), "'--top-k': 'abc' is not a valid integer"),
    (lambda f: f.UsageError("No such command 'x'."), "No such command 'x'"),
    (lambda f: f.BadOptionUsage("--wav", "Option '--wav' requires an argument."), "--wav: Option '--wav' requires an argument"),
])
def test_usage_errors_of_either_family(capsys, family, make, expected):
    code, lines = reported(make(family), capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"genseq: error: {expected}")


@pytest.mark.parametrize("exc, line", [
    (GenseqError("bad\nthing\x00here", "/a/b.mid"), "genseq: error: /a/b.mid: bad thing\\x00here"),
    (OSError(errno.ENOSPC, "No space left on device", "/x.wav"), "genseq: error: /x.wav: no space left on device"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/tmp"), "genseq: error: /tmp: is a folder, expected a file"),
    (OSError(errno.EXDEV, "Invalid cross-device link", "/a", None, "/b"), "genseq: error: /a -> /b: invalid cross-device link"),
    (MemoryError(), "genseq: error: out of memory; use smaller sizes"),
])
def test_user_and_environment_failures(capsys, exc, line):
    code, lines = reported(exc, capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith(line), lines


def test_exits_and_interrupts_keep_their_codes(capsys):
    import typer

    assert report(typer.Exit(3)) == 3 and report(click.exceptions.Exit(0)) == 0
    assert report(KeyboardInterrupt()) == 130 and report(click.exceptions.Abort()) == 130
    assert capsys.readouterr().err.count("genseq: interrupted") == 2


def test_a_bug_writes_its_traceback_to_a_log(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    try:
        {}["missing"]
    except KeyError as exc:
        code, lines = reported(exc, capsys)
    assert code == 1 and len(lines) == 1 and lines[0].startswith("genseq: error: internal error (KeyError: 'missing'); full log: ")
    log = lines[0].rsplit("full log: ", 1)[1]
    assert log.startswith(str(tmp_path / "genseq" / "logs")) and 'KeyError: \'missing\'' in open(log).read()


def test_one_line_escapes_control_bytes():
    assert one_line("a\r\n  b\tc\x1b[31m") == "a b\\x09c\\x1b[31m"


def test_native_notices_stay_off_the_terminal(capfd):
    with quiet_native_stderr():
        os.write(2, b"Note: Illegal Audio-MPEG-Header 0x00000000 at offset 2996.\n")
        os.write(2, b"[src/libmpg123/id3.c:INT123_parse_new_id3():950] warning: ID3v2: unrealistic small tag\n")
        os.write(2, b"something else\n")
    assert capfd.readouterr().err == "something else\n"
