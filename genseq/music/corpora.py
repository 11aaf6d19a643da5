"""Real corpora that ship offline with music21 (an optional dependency: pip install genseq[corpora]).

- ``bach-chorales``: the 371 Bach chorales, the soprano line (for melodies) or all four voices.
- ``oneills``: O'Neill's Music of Ireland (1850, public domain): about 1,850 jigs, reels and airs (ABC).
- ``essen``: the Essen folksong collection (ABC; non-commercial terms: fine to read on your own
  machine, not for a model you distribute).

Several can be joined with commas (``oneills,bach-chorales``). Parsing takes about 0.2 s a piece,
so each corpus is cached as a note-sequence dataset file (``$GENSEQ_CACHE``, default ~/.cache/genseq).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from genseq.core.errors import GenseqError
from genseq.core.notes import NoteSequence, load_sequences, save_sequences, steps_per_bar

CORPORA = ("bach-chorales", "oneills", "essen")
ABC_FOLDERS = {"oneills": "oneills1850", "essen": "essenFolksong"}
CHORALE_QPM = 96.0  # the scores carry no tempo; a moderate chorale tempo
TUNE_QPM = 120.0  # ABC tunes without a Q: field
MIN_SIGNATURE_QUARTERS = 1.5  # shorter "signatures" are the parser's artefacts of split pickup bars


def cache_dir() -> Path:
    return Path(os.environ.get("GENSEQ_CACHE", Path.home() / ".cache" / "genseq"))


def load_corpus(name: str, steps_per_quarter: int, voices: str = "all",
                on_piece: Callable[[int, int], None] | None = None) -> list[NoteSequence]:
    """A corpus (or comma-joined corpora) as NoteSequences, parsed once and then read from the cache."""
    names = [part.strip() for part in name.split(",") if part.strip()]
    unknown = [n for n in names if n not in CORPORA]
    if not names or unknown:
        raise GenseqError(f"unknown corpus {', '.join(unknown) or name!r} (known: {', '.join(CORPORA)})")
    if voices not in ("all", "soprano"):
        raise GenseqError(f"voices must be 'all' or 'soprano', got {voices!r}")
    return [s for n in names for s in load_one_corpus(n, steps_per_quarter, voices, on_piece)]


def load_one_corpus(name: str, steps_per_quarter: int, voices: str, on_piece=None) -> list[NoteSequence]:
    # a folk tune is one line: its voices "all" and "soprano" are the same pieces, cached once
    cached = cache_dir() / (f"{name}-{voices}-{steps_per_quarter}spq.npz" if name == "bach-chorales"
                            else f"{name}-{steps_per_quarter}spq.npz")
    if cached.exists():
        return load_sequences(cached)
    if name == "bach-chorales":
        sequences = parse_chorales(steps_per_quarter, voices, on_piece)
    else:
        sequences = parse_abc_corpus(name, steps_per_quarter, on_piece)
    save_sequences(sequences, cached)
    return sequences


def music21_corpus(name: str):
    try:
        from music21 import corpus
    except ImportError:
        raise GenseqError(f"the {name} corpus needs music21: pip install 'genseq[corpora]'") from None
    return corpus


def parse_chorales(steps_per_quarter: int, voices: str, on_piece=None) -> list[NoteSequence]:
    chorales = music21_corpus("bach-chorales").chorales.Iterator()
    total = len(chorales)
    sequences = []
    for index, score in enumerate(chorales):
        sequence = chorale_sequence(score, steps_per_quarter, voices, f"chorale-{index:03d}")
        if sequence is not None:
            sequences.append(sequence)
        if on_piece:
            on_piece(index + 1, total)
    return sequences


def abc_files(name: str) -> list[Path]:
    folder = ABC_FOLDERS[name]
    return sorted(Path(p) for p in music21_corpus(name).getPaths() if folder in Path(p).parts)


def parse_abc_corpus(name: str, steps_per_quarter: int, on_piece=None) -> list[NoteSequence]:
    """Every tune of every ABC file of the corpus; a tune music21 cannot read is left out."""
    from music21 import converter

    files = abc_files(name)
    if not files:
        raise GenseqError(f"music21 ships no {ABC_FOLDERS[name]} folder here")
    sequences = []
    for index, path in enumerate(files):
        try:
            parsed = converter.parse(path)
        except Exception:  # music21 raises many types on a malformed ABC file
            parsed = None
        scores = [] if parsed is None else list(parsed.scores) if hasattr(parsed, "scores") and len(parsed.scores) else [parsed]
        for position, score in enumerate(scores):
            number = getattr(score.metadata, "number", None) if score.metadata is not None else None
            tune = tune_sequence(score, steps_per_quarter, f"{name}-{path.stem}-{number or position}")
            if tune is not None:
                sequences.append(tune)
        if on_piece:
            on_piece(index + 1, len(files))
    return sequences


def chorale_sequence(score, steps_per_quarter: int, voices: str, name: str) -> NoteSequence | None:
    parts = list(score.parts)
    if voices == "soprano":
        parts = [p for p in parts if (p.partName or "").lower().startswith("soprano")][:1]
    if not parts:
        return None
    return part_sequence(parts, steps_per_quarter, CHORALE_QPM, name)


def tune_sequence(score, steps_per_quarter: int, name: str) -> NoteSequence | None:
    """A folk tune: its first part (the melody), on its own tempo when the ABC gives one."""
    parts = list(getattr(score, "parts", [])) or [score]
    marks = score.recurse().getElementsByClass("MetronomeMark")
    qpm = next((float(m.getQuarterBPM()) for m in marks if m.getQuarterBPM()), TUNE_QPM)
    try:
        return part_sequence(parts[:1], steps_per_quarter, qpm, name)
    except (AttributeError, TypeError, ValueError, ZeroDivisionError):  # a tune music21 half-parsed
        return None


def pickup_of(part) -> float:
    """Quarters missing from an anacrusis: added to every offset so bar lines fall on the grid."""
    first_measure = part.getElementsByClass("Measure").first()
    return float(first_measure.paddingLeft) if first_measure is not None else 0.0


def sounding_rows(part, pickup: float, steps_per_quarter: int) -> list[tuple[int, int, int, int, int]]:
    """(pitch, velocity, start, end, program) of the part's notes and chords; chord symbols and
    grace notes (no duration) are left out."""
    from music21 import harmony

    rows = []
    for element in part.flatten().notes:
        if isinstance(element, harmony.Harmony) or element.duration.isGrace or element.quarterLength <= 0:
            continue
        start = round((float(element.offset) + pickup) * steps_per_quarter)
        end = max(start + 1, round((float(element.offset + element.quarterLength) + pickup) * steps_per_quarter))
        rows.extend((p.midi, 80, start, end, 0) for p in element.pitches)
    return rows


def measure_signatures(part, pickup: float, steps_per_quarter: int) -> list[tuple[int, int, int]]:
    """(step, numerator, denominator) from the measures: a real metre change, or a full bar that
    starts off the current bar grid (after a pickup split from its bar), starts a new signature."""
    measures = list(part.getElementsByClass("Measure"))
    found = part.recurse().getElementsByClass("TimeSignature")
    current = (found[0].numerator, found[0].denominator) if found else (4, 4)
    signatures = [(0, *current)]
    for measure in measures[1:]:
        signature = measure.timeSignature
        if signature is not None and signature.barDuration.quarterLength >= MIN_SIGNATURE_QUARTERS:
            current = (signature.numerator, signature.denominator)
        bar_quarters = current[0] * 4 / current[1]
        step = round((float(measure.offset) + pickup) * steps_per_quarter)
        if float(measure.duration.quarterLength) + 1e-6 < bar_quarters:
            continue  # a partial bar (a pickup or a bar before one) is not a bar line to align to
        last_step, *last = signatures[-1]
        if tuple(last) != current or (step - last_step) % steps_per_bar(steps_per_quarter, *last) != 0:
            if step == last_step:
                signatures[-1] = (step, *current)
            elif step > last_step:
                signatures.append((step, *current))
    return signatures


def part_sequence(parts, steps_per_quarter: int, qpm: float, name: str) -> NoteSequence | None:
    pickup = pickup_of(parts[0])
    rows = [row for part in parts for row in sounding_rows(part, pickup, steps_per_quarter)]
    if not rows:
        return None
    notes = np.array(rows, dtype=np.int32)
    notes = notes[np.lexsort((notes[:, 0], notes[:, 2]))]
    signatures = measure_signatures(parts[0], pickup, steps_per_quarter)
    return NoteSequence(notes, steps_per_quarter, qpm, signatures, int(notes[:, 3].max()), name)
