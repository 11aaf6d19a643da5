"""Real corpora that ship offline with music21 (an optional dependency: pip install genseq[corpora]).

The 371 Bach chorales: the soprano line (for melodies) or all four voices (for piano rolls).
Parsing takes about 0.2 s a chorale, so the result is cached as a note-sequence dataset file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from genseq.core.errors import GenseqError
from genseq.core.notes import NoteSequence, load_sequences, save_sequences

CORPORA = ("bach-chorales",)
CHORALE_QPM = 96.0  # the scores carry no tempo; a moderate chorale tempo


def cache_dir() -> Path:
    return Path(os.environ.get("GENSEQ_CACHE", Path.home() / ".cache" / "genseq"))


def load_corpus(name: str, steps_per_quarter: int, voices: str = "all",
                on_piece: Callable[[int, int], None] | None = None) -> list[NoteSequence]:
    """A corpus as NoteSequences, parsed once and then read from the cache."""
    if name not in CORPORA:
        raise GenseqError(f"unknown corpus {name!r} (known: {', '.join(CORPORA)})")
    if voices not in ("all", "soprano"):
        raise GenseqError(f"voices must be 'all' or 'soprano', got {voices!r}")
    cached = cache_dir() / f"{name}-{voices}-{steps_per_quarter}spq.npz"
    if cached.exists():
        return load_sequences(cached)
    sequences = parse_chorales(steps_per_quarter, voices, on_piece)
    save_sequences(sequences, cached)
    return sequences


def parse_chorales(steps_per_quarter: int, voices: str, on_piece=None) -> list[NoteSequence]:
    try:
        from music21 import corpus
    except ImportError:
        raise GenseqError("the Bach chorales need music21: pip install 'genseq[corpora]'") from None
    chorales = corpus.chorales.Iterator()
    total = len(chorales)
    sequences = []
    for index, score in enumerate(chorales):
        sequence = chorale_sequence(score, steps_per_quarter, voices, f"chorale-{index:03d}")
        if sequence is not None:
            sequences.append(sequence)
        if on_piece:
            on_piece(index + 1, total)
    return sequences


def chorale_sequence(score, steps_per_quarter: int, voices: str, name: str) -> NoteSequence | None:
    parts = list(score.parts)
    if voices == "soprano":
        parts = [p for p in parts if (p.partName or "").lower().startswith("soprano")][:1]
    if not parts:
        return None
    first_measure = parts[0].getElementsByClass("Measure").first()
    pickup = float(first_measure.paddingLeft) if first_measure is not None else 0.0  # anacrusis: align bar lines
    rows = []
    for part in parts:
        for element in part.flatten().notes:
            start = round((float(element.offset) + pickup) * steps_per_quarter)
            end = max(start + 1, round((float(element.offset + element.quarterLength) + pickup) * steps_per_quarter))
            rows.extend((p.midi, 80, start, end, 0) for p in element.pitches)
    if not rows:
        return None
    signatures = score.recurse().getElementsByClass("TimeSignature")
    num, den = (signatures[0].numerator, signatures[0].denominator) if signatures else (4, 4)
    notes = np.array(rows, dtype=np.int32)
    notes = notes[np.lexsort((notes[:, 0], notes[:, 2]))]
    return NoteSequence(notes, steps_per_quarter, CHORALE_QPM, [(0, num, den)], int(notes[:, 3].max()), name)
