"""A played call on the session's grid: notes timed in clock seconds become a quantised
NoteSequence whose first bar starts at the call's first note, and the tempo can be estimated
from the call itself."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from genseq.core.notes import NoteSequence

TEMPO_GUESS_RANGE = (60.0, 200.0)  # qpm the issue asks to handle; an estimate is folded into it by octaves


@dataclass
class PlayedNote:
    pitch: int
    velocity: int
    on: float  # clock seconds
    off: float | None = None  # None while the key is down


@dataclass(frozen=True)
class Grid:
    """The session's grid: `qpm` quarters a minute, `steps_per_quarter` steps each, 4/4 bars from `anchor`."""

    qpm: float
    steps_per_quarter: int
    anchor: float = 0.0

    @property
    def step_seconds(self) -> float:
        return 60.0 / self.qpm / self.steps_per_quarter

    @property
    def bar_seconds(self) -> float:
        return 4 * 60.0 / self.qpm

    @property
    def steps_per_bar(self) -> int:
        return 4 * self.steps_per_quarter

    def step_of(self, when: float) -> int:
        return int(round((when - self.anchor) / self.step_seconds))

    def time_of(self, step: float) -> float:
        return self.anchor + step * self.step_seconds

    def bar_line_at_or_after(self, when: float) -> float:
        bars = math.ceil((when - self.anchor) / self.bar_seconds - 1e-9)
        return self.anchor + max(bars, 0) * self.bar_seconds


def quantise_call(notes: list[PlayedNote], grid: Grid, released_at: float) -> NoteSequence:
    """The call's notes on the grid (anchored at its first note), padded with rests to a whole bar.
    A key still down counts as released at `released_at`; every note lasts at least one step."""
    rows = []
    for note in notes:
        start = grid.step_of(note.on)
        end = max(start + 1, grid.step_of(note.off if note.off is not None else released_at))
        rows.append((note.pitch, note.velocity, start, end, 0))
    array = np.array(rows, dtype=np.int32).reshape(-1, 5)
    last = int(array[:, 3].max()) if len(array) else 0
    total = max(1, math.ceil(last / grid.steps_per_bar)) * grid.steps_per_bar
    return NoteSequence(array, grid.steps_per_quarter, grid.qpm, [(0, 4, 4)], total, "call")


def estimate_tempo(onsets: list[float], low: float = TEMPO_GUESS_RANGE[0], high: float = TEMPO_GUESS_RANGE[1]) -> float | None:
    """A tempo from the call's note starts: the median gap between onsets taken as an eighth note
    (the most common note value in the folk tunes the bundled models learned), folded by octaves
    into [low, high). None with fewer than three notes."""
    gaps = np.diff(np.sort(np.asarray(onsets, dtype=np.float64)))
    gaps = gaps[gaps > 0.04]  # a chord's notes are not a rhythm
    if len(gaps) < 2:
        return None
    qpm = 60.0 / (2 * float(np.median(gaps)))
    while qpm < low:
        qpm *= 2
    while qpm >= high:
        qpm /= 2
    return round(qpm, 1)
