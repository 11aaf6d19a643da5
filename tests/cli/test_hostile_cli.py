"""Hostile input against the CLI, in-process: one case per mechanism of the error contract.

Every case asserts the contract: exit 2, exactly one stderr line starting `genseq: error:` that
names the file or option, no traceback, and no new file. The inputs are tiny files made here.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import sys
import threading

import numpy as np
import pytest
import torch

from genseq.model.checkpoint import save_checkpoint
from tests.conftest import REPO, SCALE, write_tune

MELODY = REPO / "assets" / "music-melody.pt"
DANCE = REPO / "assets" / "dance.pt"
needs_bundled = pytest.mark.skipif(not (MELODY.exists() and DANCE.exists()), reason=f"bundled checkpoints in {REPO / 'assets'} absent")
BUDGET_S = 6  # a refusal comes before any real work: past this, the command is doing the work it should refuse


class TooSlow(Exception):
    """Raised by the alarm: the command started work instead of refusing."""


def files_under(folder, folders=False):
    """Every file (and with folders=True every folder) under `folder`."""
    return sorted(str(p) for p in folder.rglob("*") if folders or not p.is_dir() or p.is_symlink())


@pytest.fixture(autouse=True)
def private_logs(tmp_path_factory, monkeypatch):
    logs = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(logs))
    monkeypatch.delenv("GENSEQ_MAX_MEMORY", raising=False)
    return logs


@pytest.fixture
def hostile(tmp_path, capsys):
    """hostile(args, *names): run `genseq ARGS` in this process within a time budget and assert the contract."""
    import genseq.cli  # noqa: F401 - the imports are not part of the budget

    def run(args, *names, code=2, folders=False):
        before = files_under(tmp_path, folders)
        old_argv, old_handler = sys.argv, signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TooSlow()))
        sys.argv = ["genseq", *map(str, args)]
        signal.alarm(BUDGET_S)
        try:
            genseq.cli.main()
            exit_code = 0
        except SystemExit as exc:
            exit_code = exc.code if isinstance(exc.code, int) else 1
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old_handler)
            sys.argv = old_argv
        err = capsys.readouterr().err
        errors = [line for line in err.splitlines() if line.startswith("genseq: error:")]
        assert exit_code == code, err
        assert len(errors) == 1, err
        assert "Traceback" not in err and "internal error" not in errors[0] or code != 2, err
        for name in names:
            assert str(name) in errors[0], err
        after = files_under(tmp_path, folders)
        assert after == before, f"new: {set(after) - set(before)}, gone: {set(before) - set(after)}"
        return errors[0]

    return run


# --- usage errors: typer's own exception classes, recognised by protocol --------------------------

@pytest.mark.parametrize("args, name", [
    (["generate", "music", "--temperature", "abc"], "--temperature"),
    (["generate", "music", "--top-k", "abc"], "--top-k"),
    (["generate", "music", "--bogus-opt"], "--bogus-opt"),
    (["bogus-command"], "bogus-command"),
    (["train", "music"], "--data"),
    (["train"], "missing command"),
    (["render", "music", "--wav"], "--wav"),
])
def test_usage_errors(hostile, args, name):
    hostile(args, name)


# --- unreadable, damaged and impossible checkpoints -----------------------------------------------

def tiny_checkpoint(path, **model):
    """A whole small music checkpoint (with `model` keys changed in its recorded config, and no weights)."""
    from genseq.model.train import build_model

    config = {"model": {"hidden_size": 8, "num_layers": 1, **model}}
    net = build_model({"config": {"model": {"hidden_size": 8, "num_layers": 1}}, "input_size": 4, "output_size": 4})
    return save_checkpoint(path, {"kind": "music", "config": config, "input_size": 4, "output_size": 4,
                                  "state_dict": net.state_dict() if not model else {}})


def checkpoint_file(tmp_path, make):
    path = tmp_path / f"{make}.pt"
    rng = np.random.default_rng(7)
    if make == "text":
        path.write_text("not a checkpoint\n")
    elif make == "random":
        path.write_bytes(rng.bytes(3000))
    elif make == "truncated":
        path.write_bytes(tiny_checkpoint(tmp_path / "tiny.pt").read_bytes()[:700])
    elif make == "flipped":
        raw = bytearray(tiny_checkpoint(tmp_path / "tiny.pt").read_bytes())
        start = raw.find(b"data/0") + 64
        for spot in range(start, start + 40):
            raw[spot] ^= 0xFF
        path.write_bytes(bytes(raw))
    elif make == "nan":
        payload = torch.load(tiny_checkpoint(tmp_path / "tiny.pt"), weights_only=True)
        payload["state_dict"] = {k: torch.full_like(v, float("nan")) for k, v in payload["state_dict"].items()}
        path = save_checkpoint(path, {k: v for k, v in payload.items() if k not in ("format", "digest")})
    elif make == "huge":
        path = tiny_checkpoint(path, hidden_size=100_000)
    elif make == "loop":
        path.symlink_to(path)
    elif make == "folder":
        path.mkdir()
    for stale in tmp_path.glob("tiny.pt"):
        stale.unlink()
    return path


@pytest.mark.parametrize("make, problem", [
    ("text", "not a readable checkpoint"), ("random", "not a readable checkpoint"), ("truncated", "not a readable checkpoint"),
    ("flipped", "recorded digest"), ("nan", "NaN or infinite"), ("huge", "model.hidden_size: needs about"),
    ("loop", "symbolic links"), ("folder", "run folder has no best.pt"),
])
def test_bad_checkpoints(hostile, tmp_path, make, problem):
    path = checkpoint_file(tmp_path, make)
    line = hostile(["generate", "music", "--checkpoint", path, "--out", tmp_path / "out"], problem)
    assert make == "huge" or str(path) in line


def test_a_refused_command_leaves_no_empty_folder(hostile, tmp_path):
    path = checkpoint_file(tmp_path, "text")
    hostile(["generate", "music", "--checkpoint", path, "--out", tmp_path / "out"], path, folders=True)


# --- outputs that cannot be written -------------------------------------------------------------

@pytest.fixture
def tune_file(tmp_path):
    return write_tune(tmp_path / "tune.mid", SCALE[:8])


@pytest.fixture
def music_data(tmp_path):
    """A folder of four short tunes: enough to split into training and validation."""
    (tmp_path / "data").mkdir()
    for index in range(4):
        write_tune(tmp_path / "data" / f"tune{index}.mid", [(p + index, s, e) for p, s, e in SCALE[:16]])
    return tmp_path / "data"


@pytest.mark.parametrize("where", ["proc", "folder", "under-a-file", "sys"])
def test_unwritable_outputs(hostile, tmp_path, tune_file, where):
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_file").write_text("x")
    wav = {"proc": "/proc/genseq-test.wav", "folder": tmp_path / "a_folder", "under-a-file": tmp_path / "a_file" / "x.wav",
           "sys": "/sys/genseq-test.wav"}[where]
    hostile(["render", "music", tune_file, "--wav", wav, "--allow-sine"], wav if where != "under-a-file" else tmp_path / "a_file")


@needs_bundled
@pytest.mark.parametrize("command", ["music", "dance"])
def test_every_output_is_checked_before_the_first_is_written(hostile, tmp_path, command):
    if command == "music":
        args = ["--checkpoint", MELODY, "--out", tmp_path / "gen", "--bars", "1", "--wav", "/proc/genseq/x.wav"]
    else:
        args = ["--checkpoint", DANCE, "--out", tmp_path / "d.mp4", "--seconds", "1", "--keypoints-out", "/proc/k.npz"]
    hostile(["generate", command, *args], "/proc")


@pytest.mark.parametrize("args, name", [
    (["render", "music", "TUNE", "--wav", "x.mp3", "--allow-sine"], "x.mp3"),
    (["render", "dance", "TUNE", "--preview", "bad.txt"], "bad.txt"),
    (["extract", "music", "TUNE", "--out", "s.npz", "--steps-per-quarter", "0"], "--steps-per-quarter"),
], ids=["wav-named-mp3", "preview-named-txt", "steps-per-quarter-0"])
def test_output_names_and_grids_that_cannot_work(hostile, tmp_path, tune_file, args, name):
    args = [tune_file if a == "TUNE" else (tmp_path / a if a.endswith((".mp3", ".txt", ".npz")) else a) for a in args]
    hostile(args, name)


# --- configs: bombs, NUL bytes, sizes nothing can allocate --------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")) + "model: *i\n"


@pytest.mark.parametrize("content, problem", [
    (BOMB, ""), ("representation: melody\nmodel:\n  hidden_size: 64\x00\n", ""),
    ("representation: melody\nmodel:\n  hidden_size: 100000\n", "model.hidden_size"),
    ("representation: melody\nmodel:\n  num_layers: 100000\n", "model.num_layers"),
    ("representation: melody\ntrain:\n  batch_size: 100000000\n", "train.batch_size"),
], ids=["yaml-bomb", "nul-byte", "hidden-size", "num-layers", "batch-size"])
def test_hostile_configs(hostile, tmp_path, music_data, content, problem, request):
    config = tmp_path / "config.yaml"
    config.write_bytes(content.encode())
    hostile(["train", "music", "--data", music_data, "--out", tmp_path / "run", "--config", config, "--epochs", "1"],
            problem or config)


# --- the environment: memory, disk, bugs ---------------------------------------------------------

def failing_stage(exc):
    def stage(*args, **kwargs):
        raise exc

    return stage


@pytest.mark.parametrize("exc, problem", [
    (MemoryError(), "out of memory"),
    (RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you tried to allocate 9e12 bytes"),
     "out of memory"),
    (OSError(errno.ENOSPC, "No space left on device", "/data/out.npz"), "/data/out.npz: no space left on device"),
    (OSError(errno.EROFS, "Read-only file system", "/ro/out.npz"), "/ro/out.npz: read-only file system"),
    (PermissionError(errno.EACCES, "Permission denied", "/root/x.npz"), "/root/x.npz: permission denied"),
    (RuntimeError("PytorchStreamWriter failed writing file data/3: file write failed"), "cannot write output"),
    (ValueError("embedded null byte"), "NUL byte"),
], ids=["memory", "torch-alloc", "enospc", "erofs", "eacces", "torch-disk", "nul-path"])
def test_environment_failures(hostile, tmp_path, tune_file, monkeypatch, exc, problem):
    import genseq.music.extract as stages

    monkeypatch.setattr(stages, "extract_music", failing_stage(exc))
    hostile(["extract", "music", tune_file, "--out", tmp_path / "set.npz"], problem)


def test_a_bug_is_one_line_and_a_log(hostile, tmp_path, tune_file, monkeypatch, private_logs):
    import genseq.music.extract as stages

    monkeypatch.setattr(stages, "extract_music", failing_stage(ZeroDivisionError("division by zero")))
    line = hostile(["extract", "music", tune_file, "--out", tmp_path / "set.npz"], "internal error (ZeroDivisionError", code=1)
    log = line.rsplit("full log: ", 1)[1]
    assert log.startswith(str(private_logs)) and "Traceback" in open(log).read()


def test_nul_byte_in_a_path_argument(hostile, tmp_path):
    hostile(["extract", "music", "bad\x00name.mid", "--out", tmp_path / "set.npz"], "null byte")


# --- run folders ---------------------------------------------------------------------------------

@contextlib.contextmanager
def lock_held_by_a_thread(run):
    """The run folder's lock, held by another thread of this process until the block ends."""
    from genseq.core.lock import run_lock

    held, done = threading.Event(), threading.Event()

    def holder():
        with run_lock(run):
            held.set()
            done.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_a_second_training_into_a_locked_folder(hostile, tmp_path, music_data):
    run = tmp_path / "run"
    with lock_held_by_a_thread(run):
        hostile(["train", "music", "--data", music_data, "--out", run, "--epochs", "1"], "in use by another training")


# --- values the types allow but nothing can use (the options models' bounds) --------------------

@needs_bundled
@pytest.mark.parametrize("option, value", [
    ("--top-p", "0"), ("--seed", "99999999999999999999"), ("--tempo", "1000000000"), ("--bars", "100000"),
    ("--device", "bogus"), ("--device", "cuda:7"), ("--temperature", "-1"), ("--top-k", "0"), ("--seconds", "1000000"), ("--num-outputs", "0"),
])
def test_generate_music_bounds(hostile, tmp_path, option, value):
    hostile(["generate", "music", "--checkpoint", MELODY, "--out", tmp_path / "gen", option, value], option)


BVH = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Chest
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 10 0
    }
  }
}
MOTION
Frames: 4
Frame Time: 0.0333333
""" + "0 90 0 0 0 0 10 0 0\n" * 4


def test_render_dance_size_bound(hostile, tmp_path):
    clip = tmp_path / "arm.bvh"
    clip.write_text(BVH)
    hostile(["render", "dance", clip, "--out", tmp_path / "d.mp4", "--size", "100000"], "--size")


@pytest.fixture
def finished_run(tmp_path, music_data, capsys):
    """A run folder with one finished epoch of the tiny config (trained here, in this process)."""
    from tests.conftest import run_cli

    run = tmp_path / "run"
    code, _, err = run_cli(["train", "music", "--data", music_data, "--out", run, "--config", REPO / "configs" / "tiny.yaml",
                            "--epochs", "1"], capsys)
    assert code == 0 and (run / "last.pt").exists(), err
    return run


@pytest.mark.parametrize("change", ["seed", "data"])
def test_resuming_with_another_seed_or_data_is_refused(hostile, tmp_path, music_data, finished_run, change):
    record = (finished_run / "data.json").read_bytes()
    other = tmp_path / "other"
    if change == "data":
        other.mkdir()
        for tune in sorted(music_data.iterdir())[:3]:
            (other / tune.name).write_bytes(tune.read_bytes())
    args = ["train", "music", "--data", other if change == "data" else music_data, "--out", finished_run,
            "--config", REPO / "configs" / "tiny.yaml", "--epochs", "2", *(["--seed", "5"] if change == "seed" else [])]
    hostile(args, finished_run, change)
    assert (finished_run / "data.json").read_bytes() == record
