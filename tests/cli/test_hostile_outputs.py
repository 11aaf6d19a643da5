"""All or nothing per command (genseq/core/atomic.py): outputs that cannot be written, a disk that
fills half-way through a command's outputs, two outputs with one name."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from genseq.core.atomic import atomic_outputs, atomic_path, atomic_write_bytes, check_output_paths
from genseq.core.errors import GenseqError
from tests.conftest import REPO

GROUP_UNDER_LIMIT = """
import signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # as genseq's main() does: EFBIG instead of a kill
from pathlib import Path
from genseq.core.atomic import atomic_outputs, atomic_write_bytes
from genseq.core.errors import GenseqError
folder = Path(sys.argv[1])
try:
    with atomic_outputs() as outputs:
        atomic_write_bytes(outputs.path(folder / "small.mid"), b"x" * 100)
        atomic_write_bytes(outputs.path(folder / "big.wav"), b"x" * 200_000)
except GenseqError as exc:
    print(exc)
    sys.exit(2)
"""


def test_a_disk_full_half_way_leaves_none_of_the_outputs(tmp_path):
    (tmp_path / "small.mid").write_bytes(b"earlier work")

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([sys.executable, "-c", GROUP_UNDER_LIMIT, str(tmp_path)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60, preexec_fn=limit)
    assert result.returncode == 2, result.stderr
    assert result.stdout.startswith(f"{tmp_path / 'big.wav'}: cannot write (file too large"), result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.mid"]
    assert (tmp_path / "small.mid").read_bytes() == b"earlier work"


def test_a_failure_after_some_outputs_leaves_none(tmp_path):
    with pytest.raises(GenseqError, match="later"):
        with atomic_outputs() as outputs:
            atomic_write_bytes(outputs.path(tmp_path / "a.mid"), b"A")
            outputs.path(tmp_path / "b.png").write_bytes(b"B")
            raise GenseqError("later", tmp_path / "input.mid")
    assert list(tmp_path.iterdir()) == []
    with atomic_outputs() as outputs:
        atomic_write_bytes(outputs.path(tmp_path / "a.mid"), b"A")
    assert (tmp_path / "a.mid").read_bytes() == b"A" and len(list(tmp_path.iterdir())) == 1


def test_two_outputs_with_one_name_are_refused(tmp_path):
    with pytest.raises(GenseqError, match="written twice"):
        with atomic_outputs() as outputs:
            outputs.path(tmp_path / "clip.png")
            outputs.path(tmp_path / "sub" / ".." / "clip.png")  # the same file, spelt apart
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target, problem", [
    ("/proc/genseq-x.wav", "cannot write here"), ("/sys/genseq-x.png", "cannot write here"),
    ("FOLDER", "is a folder"), ("FILE/x.mid", "cannot create output folder"),
])
def test_unwritable_outputs_are_refused_before_writing(tmp_path, target, problem):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    target = target.replace("FOLDER", str(tmp_path / "folder")).replace("FILE", str(tmp_path / "file"))
    for check in (check_output_paths, lambda t: atomic_write_bytes(t, b"x")):
        with pytest.raises(GenseqError, match=problem) as info:
            check(target)
        assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder"] and not list((tmp_path / "folder").iterdir())


def test_a_library_error_that_is_not_the_disk_stays_what_it_is(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with atomic_path(tmp_path / "x.wav"):
            1 / 0
    assert list(tmp_path.iterdir()) == []
