"""Per-piece musical statistics of a NoteSequence, to compare generated pieces with real ones.

Definitions (steps are grid steps; the "top voice" is the melody encoding's skyline, the highest
sounding note at each step, a new note where it starts or changes):

- notes_per_bar: top-voice notes / bars (bars: the bar of the last step + 1)
- silence: fraction of the piece's steps where no note (of any voice) sounds
- pitch_class_entropy: Shannon entropy (bits) of the top-voice notes' pitch-class histogram
- scale_consistency: the largest fraction of top-voice notes inside one major scale (a natural
  minor scale is the major scale of its relative major, so this covers both; muspy's definition)
- mean_interval: mean absolute interval (semitones) between consecutive top-voice notes
- leaps_over_fifth: fraction of those intervals larger than 7 semitones
- pitch_range: highest minus lowest top-voice pitch (semitones)
- rhythm_entropy: entropy (bits) of the top-voice inter-onset intervals (in steps)
- groove_consistency: 1 - mean over adjacent bars of the Hamming distance of their onset patterns
  (any voice) divided by the bar length (muspy's definition; 1: every bar has the same rhythm)
- polyphony: mean number of pitches sounding over the steps where at least one sounds (1 for a melody)

A statistic a piece does not define (intervals of a one-note piece, two bars of a one-bar piece)
is NaN and left out of that statistic's summary.
"""

from __future__ import annotations

import numpy as np

from genseq.core.notes import END, PITCH, START, NoteSequence, bar_positions

STATISTICS = ("notes_per_bar", "silence", "pitch_class_entropy", "scale_consistency", "mean_interval",
              "leaps_over_fifth", "pitch_range", "rhythm_entropy", "groove_consistency", "polyphony")
MAJOR_SCALE = np.array([0, 2, 4, 5, 7, 9, 11])
LEAP_SEMITONES = 7


def melody_line(sequence: NoteSequence) -> NoteSequence:
    """The skyline melody of a piece (what a melody model learns from it), as long as the piece."""
    from genseq.music.encode import MelodyEncoding

    encoding = MelodyEncoding(sequence.steps_per_quarter, 0, 127, start_input=False)
    return encoding.to_sequence(encoding.values(sequence), sequence.qpm, sequence.time_signatures, sequence.name)


def top_voice(sequence: NoteSequence) -> np.ndarray:
    """(pitch, start, end) rows of the skyline melody, in time order."""
    return melody_line(sequence).notes[:, [PITCH, START, END]]


def first_bars(sequence: NoteSequence, bars: int | None) -> NoteSequence:
    """The first `bars` bars of a piece (all of it when None or shorter)."""
    if bars is None or sequence.total_steps == 0:
        return sequence
    _, bar = bar_positions(sequence.time_signatures, sequence.steps_per_quarter, np.arange(sequence.total_steps))
    stop = int(np.searchsorted(bar, bars))
    return sequence if stop >= sequence.total_steps else sequence.sliced(0, stop)


def entropy_bits(values: np.ndarray) -> float:
    if len(values) == 0:
        return float("nan")
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0: no -0.0 for a single value


def sounding_counts(sequence: NoteSequence) -> np.ndarray:
    """Per step, how many distinct pitches sound."""
    roll = np.zeros((sequence.total_steps, 128), dtype=bool)
    for pitch, _, start, end, _ in sequence.notes.tolist():
        roll[start:end, pitch] = True
    return roll.sum(axis=1)


def scale_consistency(pitches: np.ndarray) -> float:
    if len(pitches) == 0:
        return float("nan")
    classes = np.asarray(pitches) % 12
    return max(float(np.isin(classes, (MAJOR_SCALE + root) % 12).mean()) for root in range(12))


def groove_consistency(sequence: NoteSequence) -> float:
    in_bar, bar = bar_positions(sequence.time_signatures, sequence.steps_per_quarter, np.arange(sequence.total_steps))
    if len(bar) == 0 or bar[-1] < 1:
        return float("nan")
    onsets = np.zeros(sequence.total_steps, dtype=bool)
    onsets[sequence.notes[:, START]] = True
    length = np.bincount(bar)
    patterns = np.zeros((bar[-1] + 1, length.max()), dtype=bool)
    patterns[bar, in_bar] = onsets
    differing = (patterns[1:] ^ patterns[:-1]).sum(axis=1)
    return float(1.0 - (differing / np.maximum(length[1:], length[:-1])).mean())


def piece_statistics(sequence: NoteSequence, bars: int | None = None) -> dict[str, float]:
    """Every statistic of STATISTICS for one piece (its first `bars` bars when given)."""
    sequence = first_bars(sequence, bars)
    nan = float("nan")
    top = top_voice(sequence)
    pitches, starts = top[:, 0], top[:, 1]
    intervals = np.abs(np.diff(pitches))
    sounding = sounding_counts(sequence)
    n_bars = int(bar_positions(sequence.time_signatures, sequence.steps_per_quarter, [sequence.total_steps - 1])[1][0]) + 1
    return {
        "notes_per_bar": len(top) / n_bars if sequence.total_steps else nan,
        "silence": float((sounding == 0).mean()) if sequence.total_steps else nan,
        "pitch_class_entropy": entropy_bits(pitches % 12),
        "scale_consistency": scale_consistency(pitches),
        "mean_interval": float(intervals.mean()) if len(intervals) else nan,
        "leaps_over_fifth": float((intervals > LEAP_SEMITONES).mean()) if len(intervals) else nan,
        "pitch_range": float(pitches.max() - pitches.min()) if len(pitches) else nan,
        "rhythm_entropy": entropy_bits(np.diff(starts)) if len(starts) > 1 else nan,
        "groove_consistency": groove_consistency(sequence),
        "polyphony": float(sounding[sounding > 0].mean()) if (sounding > 0).any() else nan,
    }
