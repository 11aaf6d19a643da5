"""Each statistic pinned on tiny hand-made pieces whose answers are worked out by hand."""

import json
import math

import numpy as np
import pytest

from genseq.core.errors import GenseqError
from genseq.core.notes import NoteSequence
from genseq.music.sample_eval import compare_pieces, distance_sd, evaluate_samples, overlap_area, summary_lines
from genseq.music.statistics import STATISTICS, piece_statistics, scale_consistency, top_voice


def arpeggios():
    """4/4, 4 steps a quarter (16-step bars), two bars: C E G (rest) | C5 E G C."""
    notes = [[60, 80, 0, 4, 0], [64, 80, 4, 8, 0], [67, 80, 8, 12, 0],
             [72, 80, 16, 20, 0], [64, 80, 20, 24, 0], [67, 80, 24, 28, 0], [60, 80, 28, 32, 0]]
    return NoteSequence(notes, 4, 120.0, [(0, 4, 4)], 32, "arpeggios")


def chords():
    """3/4, 1 step a quarter (3-step bars), two bars: C4 held under a short E4, then G4 over a G3."""
    notes = [[60, 80, 0, 3, 0], [64, 80, 0, 1, 0], [67, 80, 3, 6, 0], [55, 80, 3, 5, 0]]
    return NoteSequence(notes, 1, 120.0, [(0, 3, 4)], 6, "chords")


def test_a_melody_statistic_by_statistic():
    stats = piece_statistics(arpeggios())
    assert set(stats) == set(STATISTICS)
    assert stats["notes_per_bar"] == 3.5  # 7 notes in 2 bars
    assert stats["silence"] == 4 / 32  # the quarter rest
    # pitch classes C C C E E G G: -(3/7 log2 3/7 + 2 * 2/7 log2 2/7)
    assert stats["pitch_class_entropy"] == pytest.approx(-(3 / 7 * math.log2(3 / 7) + 4 / 7 * math.log2(2 / 7)))
    assert stats["scale_consistency"] == 1.0
    assert stats["mean_interval"] == 5.0  # 4 3 5 8 3 7
    assert stats["leaps_over_fifth"] == pytest.approx(1 / 6)  # only the octave-less-a-third 8
    assert stats["pitch_range"] == 12.0
    # inter-onset intervals 4 4 8 4 4 4: -(5/6 log2 5/6 + 1/6 log2 1/6)
    assert stats["rhythm_entropy"] == pytest.approx(-(5 / 6 * math.log2(5 / 6) + 1 / 6 * math.log2(1 / 6)))
    assert stats["groove_consistency"] == 1 - 1 / 16  # bar 2 has one onset (step 12 of the bar) more
    assert stats["polyphony"] == 1.0


def test_a_piano_roll_uses_its_top_voice_for_melodic_statistics_and_all_voices_for_the_rest():
    piece = chords()
    # top voice: E4 at step 0, then the held C4 becomes the top (a new note at step 1), then G4
    assert top_voice(piece).tolist() == [[64, 0, 1], [60, 1, 3], [67, 3, 6]]
    stats = piece_statistics(piece)
    assert stats["notes_per_bar"] == 1.5
    assert stats["silence"] == 0.0
    assert stats["pitch_class_entropy"] == pytest.approx(math.log2(3))
    assert stats["mean_interval"] == 5.5 and stats["leaps_over_fifth"] == 0.0  # 4 and 7: a fifth is no leap
    assert stats["pitch_range"] == 7.0
    assert stats["rhythm_entropy"] == 1.0  # intervals 1 and 2
    assert stats["groove_consistency"] == 1.0  # both bars: onsets on the downbeat only
    assert stats["polyphony"] == 9 / 6  # pitches sounding per step: 2 1 1 2 2 1


def test_scale_consistency_takes_the_best_major_scale():
    # C C# D D#: D-flat major holds C, C#, D# (3 of 4); no scale holds all four
    assert scale_consistency(np.array([60, 61, 62, 63])) == 0.75
    assert scale_consistency(np.array([57, 59, 60, 62, 64, 65, 67])) == 1.0  # A natural minor is C major


def test_bars_limits_a_piece_and_undefined_statistics_are_nan():
    stats = piece_statistics(arpeggios(), bars=1)
    assert stats["notes_per_bar"] == 3.0 and stats["silence"] == 0.25
    assert math.isnan(stats["groove_consistency"])  # one bar has no neighbour
    lone = piece_statistics(NoteSequence([[60, 80, 0, 4, 0]], 4, 120.0, [(0, 4, 4)], 4))
    assert math.isnan(lone["mean_interval"]) and math.isnan(lone["rhythm_entropy"])
    assert lone["pitch_class_entropy"] == 0.0 and lone["pitch_range"] == 0.0


def test_distance_is_the_mean_gap_in_real_standard_deviations():
    assert distance_sd(np.array([1.0, 2.0, 3.0]), np.array([3.0, 4.0, 5.0])) == 2.0  # sd (n-1) of 1 2 3 is 1
    assert distance_sd(np.array([1.0, 1.0]), np.array([1.0, np.nan])) == 0.0  # NaN pieces are left out
    assert distance_sd(np.array([1.0, 1.0]), np.array([2.0])) is None  # constant real values: infinitely far


def test_overlap_of_the_two_distributions():
    rng = np.random.default_rng(0)
    same = rng.normal(size=200)
    assert overlap_area(same, same.copy()) == pytest.approx(1.0, abs=0.01)
    assert overlap_area(same, same + 100.0) < 0.01
    # two unit normals one sd apart overlap by 2 * Phi(-0.5) = 0.617 (KDE smoothing widens them a little)
    assert overlap_area(rng.normal(size=2000), rng.normal(1.0, size=2000)) == pytest.approx(0.617, abs=0.05)
    assert overlap_area(np.ones(3), np.ones(4)) == 1.0


def test_compare_pieces_reports_every_statistic_and_the_worst(tmp_path):
    result = compare_pieces([arpeggios(), arpeggios().transposed(2)], [chords(), chords()])
    assert set(result["statistics"]) == set(STATISTICS)
    # the real pieces (one transposed) agree exactly in polyphony (1) and notes per bar: the chords are infinitely far
    assert result["worst_distance_sd"] is None and result["statistics"]["polyphony"]["distance_sd"] is None
    assert result["statistics"]["pitch_range"]["distance_sd"] is None  # 12 and 12 against 7
    json.dumps(result, allow_nan=False)  # no NaN or infinity in the JSON
    assert "worst:" in summary_lines(result)[-1]


def test_evaluate_samples_reads_midi_folders(tmp_path):
    from genseq.music.midi import write_midi

    for folder in ("real", "fake"):
        (tmp_path / folder).mkdir()
        for k in range(3):
            write_midi(arpeggios().transposed(k), tmp_path / folder / f"p{k}.mid")
    result = evaluate_samples(tmp_path / "fake", tmp_path / "real")
    assert result["real_pieces"] == result["generated_pieces"] == 3
    assert result["worst_distance_sd"] == 0.0
    assert result["statistics"]["notes_per_bar"]["real_mean"] == 3.5
    (tmp_path / "empty").mkdir()
    with pytest.raises(GenseqError, match="no MIDI"):
        evaluate_samples(tmp_path / "empty", tmp_path / "real")
    with pytest.raises(GenseqError, match="no such"):
        evaluate_samples(tmp_path / "nothing-here", tmp_path / "real")


def test_distance_in_the_units_of_another_set():
    # two halves of one real set: the whole set's sd is the unit (one half alone may have none)
    assert distance_sd(np.array([0.0, 0.0]), np.array([0.0, 1.0]), unit=np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(0.5 / 0.5)
