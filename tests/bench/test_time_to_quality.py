"""bench/time_to_quality.py reads the train loop's epoch lines and bounds a finished run's curve."""

import json

import torch

from tests.bench.conftest import load_bench

time_to_quality = load_bench("time_to_quality")


def test_the_epoch_line_of_the_train_loop_is_parsed():
    line = "epoch 12: train 2.3260  valid 2.1668  (best)  24.2s\n"
    match = time_to_quality.EPOCH_LINE.search(line)
    assert (int(match[1]), float(match[3])) == (12, 2.1668)


def test_a_finished_runs_epochs_end_no_later_than_its_end_less_the_epochs_after(tmp_path):
    history = [{"epoch": e, "seconds": 10.0, "valid_loss": v} for e, v in ((1, 3.0), (2, 2.5), (3, 2.2))]
    torch.save({"train_state": {"history": history}}, tmp_path / "last.pt")
    (tmp_path / "wall.json").write_text(json.dumps({"started": 100.0, "ended": 140.0}))
    curve = time_to_quality.curve_from_history(tmp_path)
    assert [p["wall_seconds"] for p in curve] == [20.0, 30.0, 40.0]
    assert [p["valid_nll"] for p in curve] == [3.0, 2.5, 2.2]
