"""A training process killed with SIGKILL loses no finished epoch and resumes to the same weights."""

import os
import signal
import subprocess
import sys
import time

import torch

from tests.conftest import REPO, copy_nottingham, needs_nottingham, run_cli


def last_epoch(run):
    try:
        return torch.load(run / "last.pt", weights_only=True)["train_state"]["epoch"]
    except (FileNotFoundError, RuntimeError, EOFError):
        return 0


EPOCHS = 8


@needs_nottingham
def test_killed_training_resumes_exactly(tmp_path, capsys):
    data = copy_nottingham(tmp_path / "tunes", "valid", 6)
    args = ["train", "music", "--data", str(data), "--config", str(REPO / "configs" / "tiny.yaml"), "--epochs", str(EPOCHS), "--set", "train.patience=20"]

    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "genseq.cli", *args, "--out", str(killed)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while last_epoch(killed) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stopped_at = last_epoch(killed)
    assert stopped_at >= 2, "the run should have been killed after finishing some epochs"
    # a run that finished before the kill would leave the resume path untested while this test passed
    assert stopped_at < EPOCHS, f"the run finished all {EPOCHS} epochs before it was killed"

    code, _, err = run_cli([*args, "--out", killed], capsys)
    assert code == 0, err
    code, _, err = run_cli([*args, "--out", tmp_path / "straight"], capsys)
    assert code == 0, err
    assert not [p for p in killed.iterdir() if ".tmp" in p.name]  # a save cut off by the kill is cleaned up
    a = torch.load(killed / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)
    assert a["train_state"]["epoch"] == b["train_state"]["epoch"] == EPOCHS
    assert len(a["train_state"]["history"]) == EPOCHS  # the resumed run kept the killed run's epochs
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
