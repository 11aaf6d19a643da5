"""A played call on the grid: quantised from its first note, padded to whole bars; tempo estimates."""

from __future__ import annotations

import pytest

from genseq.live.calls import Grid, PlayedNote, estimate_tempo, quantise_call


def test_a_call_is_quantised_from_its_first_note_and_padded_to_a_bar():
    grid = Grid(120.0, 4, anchor=10.0)
    notes = [PlayedNote(60, 80, 10.0, 10.24), PlayedNote(62, 90, 10.26, 10.51), PlayedNote(64, 70, 10.49, None)]
    sequence = quantise_call(notes, grid, released_at=11.1)
    assert sequence.notes[:, [0, 2, 3]].tolist() == [[60, 0, 2], [62, 2, 4], [64, 4, 9]]  # the held key ends at release
    assert sequence.total_steps == 16


def test_a_very_short_note_lasts_a_step_and_a_long_call_fills_whole_bars():
    grid = Grid(120.0, 4, anchor=0.0)
    sequence = quantise_call([PlayedNote(60, 80, 0.0, 0.01), PlayedNote(62, 80, 2.1, 2.2)], grid, 3.0)
    assert sequence.notes[0, 3] - sequence.notes[0, 2] == 1
    assert sequence.total_steps == 32


def test_bar_lines():
    grid = Grid(100.0, 4, anchor=1.0)
    assert grid.bar_seconds == pytest.approx(2.4)
    assert grid.bar_line_at_or_after(1.0) == pytest.approx(1.0)
    assert grid.bar_line_at_or_after(1.1) == pytest.approx(3.4)
    assert grid.bar_line_at_or_after(0.0) == pytest.approx(1.0)


@pytest.mark.parametrize("eighth,expected", [(0.25, 120.0), (0.3, 100.0), (0.125, 120.0), (0.6, 100.0), (0.2, 150.0)])
def test_the_tempo_is_estimated_from_onsets_and_folded_into_range(eighth, expected):
    assert estimate_tempo([i * eighth for i in range(6)]) == pytest.approx(expected)


def test_too_few_notes_or_a_chord_give_no_tempo():
    assert estimate_tempo([0.0, 0.5]) is None
    assert estimate_tempo([0.0, 0.01, 0.02]) is None
