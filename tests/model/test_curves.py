"""Loss curves of a run: the PNG (train and validation, the best epoch, learning-rate cuts marked) and
TensorBoard event files that TensorBoard itself reads back."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from genseq.model.curves import learning_rate_drops, write_training_curves


def history(epochs=8, cut_after=(3, 6)):
    rate, records = 1e-3, []
    for epoch in range(1, epochs + 1):
        if epoch in cut_after:
            rate /= 2
        records.append({"epoch": epoch, "train_loss": 3.0 / epoch, "valid_loss": 3.2 / epoch + 0.1 * (epoch > 5),
                        "seconds": 1.5, "lr": rate, "best": epoch <= 5})
    return records


def test_learning_rate_cuts_are_found():
    assert learning_rate_drops(history()) == [(3, 5e-4), (6, 2.5e-4)]
    assert learning_rate_drops(history(cut_after=(1,)), initial_lr=1e-3) == [(1, 5e-4)]
    assert learning_rate_drops(history(cut_after=())) == []


def test_png_and_tensorboard_events(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    png, events = write_training_curves(run, history(), initial_lr=1e-3)
    picture = cv2.imread(str(png))
    assert picture.shape == (450, 800, 3) and picture.std() > 10
    reader = EventAccumulator(str(events))
    reader.Reload()
    assert {"loss/train", "loss/valid", "learning_rate"} <= set(reader.Tags()["scalars"])
    valid = reader.Scalars("loss/valid")
    assert [e.step for e in valid] == list(range(1, 9)) and valid[0].value == pytest.approx(3.2)

    write_training_curves(run, history(epochs=9))  # after the next epoch: written again, whole, not appended
    reader = EventAccumulator(str(events))
    reader.Reload()
    assert [e.step for e in reader.Scalars("loss/train")] == list(range(1, 10))
    assert sorted(p.name for p in run.iterdir()) == ["loss_curves.png", "tensorboard"]
    assert len(list(events.iterdir())) == 1


def test_the_curves_differ_with_the_losses(tmp_path):
    a = write_training_curves(tmp_path / "a", history())[0]
    flat = [{**r, "valid_loss": 1.0} for r in history()]
    b = write_training_curves(tmp_path / "b", flat)[0]
    assert not np.array_equal(cv2.imread(str(a)), cv2.imread(str(b)))
    assert write_training_curves(tmp_path / "c", []) == []
