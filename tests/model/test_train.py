import numpy as np
import pytest
import torch

from genseq.core.config import ModelConfig, TrainConfig
from genseq.core.errors import GenseqError
from genseq.model.checkpoint import load_checkpoint
from genseq.core.pieces import EncodedPiece
from genseq.model.train import ModelSpec, make_windows, train


class Pieces:
    """Tiny real-shaped data: a repeating pattern the model can learn."""

    def __init__(self, count=6, length=40):
        rng = np.random.default_rng(0)
        self.pieces = []
        for _ in range(count):
            values = (np.arange(length + 1) + rng.integers(0, 4)) % 4
            onehot = np.eye(4, dtype=np.float32)[values]
            self.pieces.append(EncodedPiece(onehot[:-1], values[1:].astype(np.int64)))

    def epoch(self, rng):
        return self.pieces


MODEL = ModelConfig(hidden_size=8, num_layers=2, dropout=0.1)
SPEC = ModelSpec("music", "categorical", 4, 4, {"name": "toy"}, {"model": MODEL.model_dump()})


def run(tmp_path, name, epochs, progress=None):
    config = TrainConfig(epochs=epochs, batch_size=2, seq_len=16, lr=0.01, patience=50)
    data = Pieces()
    return train(SPEC, config, data, data.pieces[:2], tmp_path / name, progress=progress, show_progress=False)


def test_windows_cover_every_step_once():
    windows = make_windows([10, 3, 25], 8, np.random.default_rng(1))
    covered = {i: [] for i in range(3)}
    for i, a, b in windows:
        covered[i].extend(range(a, b))
        assert b - a <= 8
    assert [sorted(v) for v in covered.values()] == [list(range(10)), list(range(3)), list(range(25))]


def test_training_learns_and_keeps_the_best(tmp_path):
    result = run(tmp_path, "a", 6)
    losses = [h["valid_loss"] for h in result.history]
    assert losses[-1] < losses[0] * 0.8
    best = load_checkpoint(result.best_checkpoint, kind="music")
    assert best["train_state"]["best_valid_loss"] == pytest.approx(min(losses))


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    straight = run(tmp_path, "straight", 4)

    def crash_after_two(record):
        if record["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, "resumed", 4, crash_after_two)
    assert load_checkpoint(tmp_path / "resumed" / "last.pt")["train_state"]["epoch"] == 2
    resumed = run(tmp_path, "resumed", 4)
    assert resumed.epochs_run == 4
    a = load_checkpoint(straight.run_dir / "last.pt")["state_dict"]
    b = load_checkpoint(resumed.run_dir / "last.pt")["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resuming_another_model_is_refused(tmp_path):
    run(tmp_path, "a", 1)
    data = Pieces()
    with pytest.raises(GenseqError, match="another model"):
        other = ModelSpec("music", "categorical", 4, 4, {"name": "toy"}, {"model": ModelConfig(hidden_size=12).model_dump()})
        train(other, TrainConfig(epochs=2), data, data.pieces, tmp_path / "a", show_progress=False)


def test_ctrl_c_in_training_exits_130_and_keeps_finished_epochs(tmp_path, capsys, monkeypatch):
    """Ctrl-C in the second epoch: exit 130, the first epoch is kept in last.pt, and the same command
    resumes from it."""
    import genseq.model.train as training
    from tests.conftest import REPO, SCALE, run_cli, write_tune

    (tmp_path / "tunes").mkdir()
    for index in range(3):
        write_tune(tmp_path / "tunes" / f"t{index}.mid", [(p + index, a, b) for p, a, b in SCALE])
    real_epoch, epochs_started = training.run_epoch, []

    def interrupted_in_epoch_two(*args, **kwargs):
        epochs_started.append(args[5])
        if args[5] == 2:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(training, "run_epoch", interrupted_in_epoch_two)
    command = ["train", "music", "--data", tmp_path / "tunes", "--out", tmp_path / "run", "--config",
               REPO / "configs" / "tiny.yaml", "--epochs", "3", "--set", "train.patience=10", "--device", "cpu"]
    code, _, err = run_cli(command, capsys)
    assert code == 130 and "run the same command to resume" in err
    saved = load_checkpoint(tmp_path / "run" / "last.pt")
    assert saved["train_state"]["epoch"] == 1 and len(saved["train_state"]["history"]) == 1
    monkeypatch.setattr(training, "run_epoch", real_epoch)
    code, _, err = run_cli(command, capsys)
    assert code == 0, err
    assert load_checkpoint(tmp_path / "run" / "last.pt")["train_state"]["epoch"] == 3 and epochs_started == [1, 2]