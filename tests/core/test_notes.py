import numpy as np

from genseq.core.notes import NoteSequence, bar_positions, load_sequences, save_sequences


def test_bar_positions_follow_time_signature_changes():
    # 4/4 at 1 step per quarter for 2 bars, then 3/4
    in_bar, bar = bar_positions([(0, 4, 4), (8, 3, 4)], 1, np.arange(-1, 14))
    assert in_bar.tolist() == [3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 0, 1, 2]
    assert bar.tolist() == [-1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3]


def test_dataset_file_round_trips(tmp_path):
    a = NoteSequence([[60, 80, 0, 4, 0], [64, 70, 4, 8, 1]], 4, 96.0, [(0, 3, 4)], 8, "a")
    b = NoteSequence(np.zeros((0, 5)), 1, 120.0, [(0, 4, 4), (4, 6, 8)], 10, "b")
    path = save_sequences([a, b], tmp_path / "set.npz")
    loaded = load_sequences(path)
    assert [s.name for s in loaded] == ["a", "b"]
    assert np.array_equal(loaded[0].notes, a.notes) and loaded[0].qpm == 96.0
    assert loaded[1].time_signatures == [(0, 4, 4), (4, 6, 8)] and loaded[1].total_steps == 10


def test_sliced_clips_notes_and_shifts():
    seq = NoteSequence([[60, 80, 0, 6, 0], [62, 80, 6, 10, 0]], 4, 120.0, [(0, 4, 4)], 10)
    part = seq.sliced(4, 8)
    assert part.notes[:, 2:4].tolist() == [[0, 2], [2, 4]] and part.total_steps == 4
