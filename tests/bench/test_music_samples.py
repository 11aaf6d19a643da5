
import numpy as np
import pytest

from genseq.core.notes import NoteSequence
from tests.bench.conftest import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("music_samples")


def piece(rows, steps):
    return NoteSequence(np.array(rows), 4, 120.0, [(0, 4, 4)], steps)


def test_a_listener_hears_silent_bars_and_chords_held_too_long(bench):
    # bar 0: a chord struck once and held into bar 2 (40 steps = 2.5 bars with no new note), bar 3 silent
    held = bench.held_chords(piece([[60, 80, 0, 40, 0], [64, 80, 0, 40, 0], [67, 80, 40, 48, 0]], 64))
    assert held == {"silent_bars": 1, "longest_without_onset_bars": 2.5}
    row = bench.listening([piece([[60, 80, 0, 64, 0]], 64), piece([[60, 80, 4 * i, 4 * i + 4, 0] for i in range(16)], 64)])
    assert row["pieces_with_a_chord_held_over_2_bars"] == 1 and row["pieces_with_a_silent_bar"] == 0


def test_lower_voices_are_the_chorale_less_its_soprano_and_scale_follows_the_melodys_key(bench):
    whole = piece([[72, 80, 0, 4, 0], [67, 80, 0, 4, 0], [72, 80, 0, 4, 0], [61, 80, 4, 8, 0]], 8)
    soprano = piece([[72, 80, 0, 4, 0], [74, 80, 4, 8, 0], [76, 80, 8, 12, 0], [77, 80, 12, 16, 0]], 16)
    lower = bench.without(whole, soprano.notes)
    assert lower.notes[:, [0, 2, 3]].tolist() == [[67, 0, 4], [72, 0, 4], [61, 4, 8]]  # a doubled 72 stays once
    assert bench.scale_in_key(lower, soprano) == pytest.approx(2 / 3)  # C major: C# is outside


def test_a_sweep_setting_names_sampling_and_piece_controls(bench):
    assert bench.parse_setting("0.9::") == {"temperature": 0.9, "top_p": None, "top_k": None}
    assert bench.parse_setting("1.0:::window=128,candidates=4") == {
        "temperature": 1.0, "top_p": None, "top_k": None, "controls": {"window": 128, "candidates": 4}}
