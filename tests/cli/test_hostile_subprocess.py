"""Hostile cases that need a real process: a full disk (a file size limit, RLIMIT_FSIZE) and the
installed `genseq` entry point. Each costs a process start (about 2 s of imports), so they are few."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from tests.conftest import REPO, SCALE, write_tune

LIMIT = 64 * 1024  # bytes: a WAV of a few seconds, or a checkpoint of a few thousand weights, is larger

SAVE_UNDER_LIMIT = """
import sys, torch
from genseq.core.errors import GenseqError
from genseq.model.checkpoint import save_checkpoint
try:
    save_checkpoint(sys.argv[1], {"kind": "music", "state_dict": {"w": torch.ones(200_000)}})
except GenseqError as exc:
    print(exc)
    sys.exit(2)
"""


def limited(limit: int):
    def set_limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return set_limit


def run(args, tmp_path, limit: int | None = None):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                          preexec_fn=limited(limit) if limit else None)


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("genseq: error:")]
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name != "cache"]


def test_full_disk_while_writing_a_wav_is_one_line(tmp_path):
    tune = write_tune(tmp_path / "tune.mid", SCALE)
    (tmp_path / "out").mkdir()
    wav = tmp_path / "out" / "tune.wav"
    result = run([sys.executable, "-m", "genseq.cli", "render", "music", str(tune), "--wav", str(wav), "--allow-sine"],
                 tmp_path, LIMIT)
    line = one_error_line(result)
    assert str(wav) in line and "file size limit" in line
    assert leftovers(tmp_path / "out") == []  # neither the WAV nor its temporary file


def test_full_disk_while_saving_a_checkpoint_names_it(tmp_path):
    target = tmp_path / "best.pt"
    result = run([sys.executable, "-c", SAVE_UNDER_LIMIT, str(target)], tmp_path, LIMIT)
    assert result.returncode == 2 and str(target) in result.stdout and "cannot write" in result.stdout, result.stderr
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("args, name", [(["generate", "music", "--top-k", "abc"], "--top-k"), (["bogus-command"], "bogus")])
def test_the_installed_entry_point_keeps_the_contract(tmp_path, args, name):
    genseq = REPO / ".venv" / "bin" / "genseq"
    command = [str(genseq)] if genseq.exists() else [sys.executable, "-m", "genseq.cli"]
    assert name in one_error_line(run(command + args, tmp_path))
