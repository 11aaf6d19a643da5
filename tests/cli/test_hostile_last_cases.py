"""The last hostile cases of issue 24 against the CLI and the lock: a run folder whose last.pt is not a
checkpoint, a folder given where extract writes a file, --bars with --seconds, and RUN/.lock after a run.

Each case keeps the error contract of tests/cli/test_hostile_cli.py (its `hostile` fixture): exit 2, one
`genseq: error:` line naming the file or flags, no traceback, nothing new on disk."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from genseq.core.errors import GenseqError
from genseq.core.lock import LOCK_NAME, is_locked, run_lock
from genseq.model.checkpoint import check_resumable, load_checkpoint, save_checkpoint
from tests.cli.test_hostile_cli import lock_held_by_a_thread
from tests.cli.test_hostile_cli import finished_run, hostile, music_data, private_logs, tune_file  # noqa: F401 - fixtures
from tests.conftest import REPO

TINY = REPO / "configs" / "tiny.yaml"
TORCH_WORDS = ("Weights only", "weights_only", "torch.load", "`", "PytorchStreamReader", "WeightsUnpickler")


class Opaque:
    """A Python object a checkpoint never holds (loading it would mean unpickling arbitrary code)."""


def unreadable_checkpoint(path, make: str):
    if make == "text":
        path.write_text("not a checkpoint\n")
    elif make == "random":
        path.write_bytes(np.random.default_rng(3).bytes(4000))
    elif make == "truncated":
        save_checkpoint(path, {"kind": "music", "state_dict": {"w": torch.ones(2000)}})
        path.write_bytes(path.read_bytes()[:1500])
    elif make == "object":
        torch.save({"format": "genseq-checkpoint-1", "extra": Opaque()}, path)
    return path


# --- 1. a run folder whose last.pt is not a readable checkpoint -----------------------------------

@pytest.mark.parametrize("make", ["text", "truncated", "object"])
def test_an_unreadable_last_checkpoint_is_refused_before_the_run_folder_is_written(hostile, tmp_path, music_data, make):
    run = tmp_path / "run"
    run.mkdir()
    last = unreadable_checkpoint(run / "last.pt", make)
    line = hostile(["train", "music", "--data", music_data, "--out", run, "--config", TINY, "--epochs", "1"],
                   last, "not a readable checkpoint", folders=True)
    assert sorted(p.name for p in run.iterdir()) == ["last.pt"]  # no data.json, config.yaml or .lock
    assert not any(word in line for word in TORCH_WORDS), line


def test_nothing_is_said_to_train_before_the_refusal(tmp_path, music_data, capsys):
    from tests.conftest import run_cli

    run = tmp_path / "run"
    run.mkdir()
    unreadable_checkpoint(run / "last.pt", "text")
    code, _, err = run_cli(["train", "music", "--data", music_data, "--out", run, "--config", TINY, "--epochs", "1"], capsys)
    assert code == 2 and err.strip().splitlines() == [err.strip()] and "training a" not in err, err


@pytest.mark.parametrize("make", ["text", "random", "truncated", "object"])
def test_an_unreadable_checkpoint_is_said_in_genseqs_words(tmp_path, make):
    path = unreadable_checkpoint(tmp_path / f"{make}.pt", make)
    with pytest.raises(GenseqError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a readable checkpoint: ") and "\n" not in message, message
    assert not any(word in message for word in TORCH_WORDS), message
    assert len(message) < len(str(path)) + 200, message
    expected = {"text": "not a torch checkpoint file", "random": "not a torch checkpoint file",
                "truncated": "cut short or damaged", "object": "Python object"}[make]
    assert expected in message, message


def test_check_resumable_passes_a_whole_checkpoint_and_no_checkpoint(tmp_path):
    check_resumable(tmp_path)  # a new run: nothing to resume
    save_checkpoint(tmp_path / "last.pt", {"kind": "music", "state_dict": {"w": torch.ones(3)}})
    check_resumable(tmp_path)
    (tmp_path / "last.pt").unlink()
    (tmp_path / "last.pt").mkdir()
    with pytest.raises(GenseqError, match="is a folder"):
        check_resumable(tmp_path)


# --- 2. a folder where extract writes a file ----------------------------------------------------

def test_extract_refuses_a_folder_for_its_dataset_file(hostile, tmp_path, tune_file):
    folder = tmp_path / "songs"
    folder.mkdir()
    hostile(["extract", "music", tune_file, "--out", folder], folder, "is a folder", folders=True)
    assert not (tmp_path / "songs.npz").exists()


# --- 5. --bars with --seconds --------------------------------------------------------------------

def test_bars_and_seconds_together_are_refused_naming_both(hostile, tmp_path):
    line = hostile(["generate", "music", "--bars", "4", "--seconds", "10", "--out", tmp_path / "gen"], "--bars", "--seconds",
                   folders=True)
    assert "give one of them" in line


def test_bars_and_seconds_are_refused_on_assignment_too():
    from genseq.core.options import GenerateMusicOptions

    options = GenerateMusicOptions(seconds=10)
    with pytest.raises(ValueError, match="--bars and --seconds"):
        options.bars = 4
    assert GenerateMusicOptions(bars=4).bars == 4 and GenerateMusicOptions(seconds=3).seconds == 3


# --- 6. RUN/.lock lives as long as its run -------------------------------------------------------

def test_a_finished_training_leaves_no_lock_file(finished_run):
    assert (finished_run / "last.pt").exists() and not (finished_run / LOCK_NAME).exists()


@pytest.mark.parametrize("ending", [None, GenseqError("refused"), KeyboardInterrupt()], ids=["normal", "error", "ctrl-c"])
def test_the_lock_file_goes_however_the_run_ends(tmp_path, ending):
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(type(ending)) if ending is not None else contextlib.nullcontext():
        with run_lock(run), run_lock(run):  # re-entered: the file stays until the outer block ends
            assert (run / LOCK_NAME).exists() and is_locked(run)
            if ending is not None:
                raise ending
    assert not (run / LOCK_NAME).exists() and not is_locked(run)
    assert run.is_dir()  # a folder the user made stays


def test_a_stale_lock_file_with_no_holder_blocks_nothing(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / LOCK_NAME).write_text("12345\n")  # left by a holder killed with -9
    assert not is_locked(run)
    with run_lock(run):
        assert is_locked(run)
    assert not (run / LOCK_NAME).exists()


HOLDER = """
import sys
from genseq.core.lock import run_lock
with run_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_holding_process_still_refuses_a_second_and_cleans_up_when_it_ends(tmp_path):
    run = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run)], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(GenseqError, match="in use by another training"):
            with run_lock(run):
                pass
        assert (run / LOCK_NAME).exists()  # the refusal did not remove the holder's file
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert holder.returncode == 0 and not (run / LOCK_NAME).exists()


CONTENDER = """
import os, sys
from genseq.core.errors import GenseqError
from genseq.core.lock import run_lock
run, inside = sys.argv[1], os.path.join(sys.argv[1], "inside")
held = 0
for _ in range(int(sys.argv[2])):
    try:
        with run_lock(run):
            try:
                os.close(os.open(inside, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                print("two holders at once", flush=True)
                sys.exit(1)
            os.unlink(inside)
            held += 1
    except GenseqError:
        pass
print(held)
"""


def test_removing_the_file_on_release_never_lets_two_processes_hold_it(tmp_path):
    """A process that opened the file just before its holder removed it must not count that as the lock."""
    run = tmp_path / "run"
    run.mkdir()
    contenders = [subprocess.Popen([sys.executable, "-c", CONTENDER, str(run), "1000"], cwd=REPO, stdout=subprocess.PIPE,
                                   text=True) for _ in range(3)]
    outputs = [c.communicate(timeout=120)[0].strip() for c in contenders]
    assert [c.returncode for c in contenders] == [0, 0, 0], outputs
    assert sum(int(o) for o in outputs) > 0 and not (run / LOCK_NAME).exists()


def test_threads_of_one_process_still_exclude_each_other(tmp_path):
    run = tmp_path / "run"
    with lock_held_by_a_thread(run):
        with pytest.raises(GenseqError, match="in this process"):
            with run_lock(run):
                pass
        assert (run / LOCK_NAME).exists()
    assert not (run / LOCK_NAME).exists()


# --- 7. greedy gives music ------------------------------------------------------------------------

BUNDLED = {rep: REPO / "assets" / f"music-{rep}.pt" for rep in ("melody", "pianoroll")}


@pytest.mark.skipif(not all(p.exists() for p in BUNDLED.values()), reason=f"bundled music models in {REPO / 'assets'} absent")
@pytest.mark.parametrize("representation", list(BUNDLED))
def test_greedy_writes_music_with_notes_and_the_same_seed_the_same_piece(tmp_path, capsys, representation):
    import pretty_midi

    from tests.conftest import run_cli

    pieces = []
    for run in ("first", "again"):
        code, _, err = run_cli(["generate", "music", "--representation", representation, "--temperature", "0", "--seed", "3",
                                "--bars", "8", "--out", tmp_path / run, "--no-wav", "--no-png"], capsys)
        assert code == 0, err
        pieces.append((tmp_path / run / "sample_000.mid").read_bytes())
    notes = pretty_midi.PrettyMIDI(str(tmp_path / "first" / "sample_000.mid")).instruments[0].notes
    assert pieces[0] == pieces[1]
    # the piano roll (4 steps a quarter, joint head) greedily holds its likeliest key: each onset, step by step, is
    # less likely than holding on, so its greedy piece is one key struck again each bar or two
    distinct = 1 if representation == "pianoroll" else 2
    assert len(notes) >= 3 and len({n.pitch for n in notes}) >= distinct, [(n.pitch, n.start, n.end) for n in notes]
    assert max(n.end for n in notes) > 8 * 2.0 * 0.75  # 8 bars at 120 bpm last 16 s: notes until the last quarter
