"""MIDI files <-> NoteSequence (pretty_midi), with instrument selection and grid quantisation."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genseq.core.atomic import atomic_path
from genseq.core.errors import GenseqError
from genseq.core.notes import END, PITCH, PROGRAM, START, NoteSequence

MIDI_SUFFIXES = (".mid", ".midi")


@dataclass
class InstrumentSelection:
    """Which instruments of a file to keep; empty lists mean 'all'. Drums are left out unless asked."""

    programs: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    include_drums: bool = False

    def keeps(self, index: int, instrument) -> bool:
        if instrument.is_drum and not self.include_drums:
            return False
        if self.indices and index not in self.indices:
            return False
        if self.programs and instrument.program not in self.programs:
            return False
        if self.names and not any(n.lower() in instrument.name.lower() for n in self.names):
            return False
        return True


def load_pretty_midi(path: str | Path):
    import pretty_midi

    path = Path(path)
    if not path.is_file():
        raise GenseqError("no such file", path)
    if path.stat().st_size == 0:
        raise GenseqError("empty file (0 bytes)", path)
    with path.open("rb") as handle:
        if handle.read(4) != b"MThd":
            raise GenseqError("not a MIDI file (no MThd header)", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # pretty_midi/mido raise many types for corrupt data
        raise GenseqError(f"corrupt MIDI file ({type(exc).__name__}: {exc})", path) from None


def read_midi(
    path: str | Path,
    steps_per_quarter: int = 4,
    selection: InstrumentSelection | None = None,
) -> NoteSequence:
    """Read one MIDI file as a quantised NoteSequence; raise GenseqError saying why nothing is kept."""
    path = Path(path)
    selection = selection or InstrumentSelection()
    midi = load_pretty_midi(path)
    if not any(inst.notes for inst in midi.instruments):
        raise GenseqError("no notes in any track", path)
    kept = [inst for i, inst in enumerate(midi.instruments) if selection.keeps(i, inst) and inst.notes]
    if not kept:
        if all(inst.is_drum for inst in midi.instruments if inst.notes) and not selection.include_drums:
            raise GenseqError("only drum tracks (drums are left out; use --include-drums)", path)
        available = ", ".join(f"#{i} program {inst.program} '{inst.name}'" for i, inst in enumerate(midi.instruments))
        raise GenseqError(f"no instrument matches the selection (has: {available})", path)

    def to_step(seconds: float) -> int:
        return int(round(midi.time_to_tick(seconds) / midi.resolution * steps_per_quarter))

    rows = []
    for inst in kept:
        for note in inst.notes:
            start, end = to_step(note.start), to_step(note.end)
            rows.append((note.pitch, note.velocity, start, max(end, start + 1), inst.program))
    notes = resolve_overlaps(np.array(rows, dtype=np.int32))
    tempos = midi.get_tempo_changes()[1]
    signatures = [(to_step(ts.time), ts.numerator, ts.denominator) for ts in midi.time_signature_changes]
    return NoteSequence(
        notes,
        steps_per_quarter=steps_per_quarter,
        qpm=round(float(tempos[0]), 2) if len(tempos) else 120.0,  # MIDI stores whole microseconds per beat
        time_signatures=clean_signatures(signatures),
        total_steps=int(notes[:, END].max()),
        name=path.stem,
    )


def resolve_overlaps(notes: np.ndarray) -> np.ndarray:
    """Sort notes; where two notes of one pitch and program overlap, end the earlier at the later's start."""
    notes = notes[np.lexsort((notes[:, START], notes[:, PITCH], notes[:, PROGRAM]))]
    same_voice = (notes[1:, PITCH] == notes[:-1, PITCH]) & (notes[1:, PROGRAM] == notes[:-1, PROGRAM])
    overlap = same_voice & (notes[:-1, END] > notes[1:, START])
    notes[:-1, END] = np.where(overlap, notes[1:, START], notes[:-1, END])
    notes = notes[notes[:, END] > notes[:, START]]  # duplicates (same start) vanish here
    return notes[np.lexsort((notes[:, PITCH], notes[:, START]))]


def clean_signatures(signatures: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Sorted, one per step, starting at step 0 (4/4 until the first one)."""
    by_step: dict[int, tuple[int, int, int]] = {}
    for step, num, den in sorted(signatures):
        by_step[step] = (step, num, den)
    result = list(by_step.values())
    if not result or result[0][0] > 0:
        result.insert(0, (0, 4, 4))
    return result


def write_midi(sequence: NoteSequence, path: str | Path, program: int | None = None, qpm: float | None = None) -> Path:
    """Write a NoteSequence as a MIDI file (atomically); `program`/`qpm` override the sequence's own."""
    import pretty_midi

    qpm = qpm or sequence.qpm
    seconds_per_step = 60.0 / qpm / sequence.steps_per_quarter
    midi = pretty_midi.PrettyMIDI(initial_tempo=qpm)
    for step, num, den in sequence.time_signatures:
        midi.time_signature_changes.append(pretty_midi.TimeSignature(num, den, step * seconds_per_step))
    instruments: dict[int, pretty_midi.Instrument] = {}
    for pitch, velocity, start, end, note_program in sequence.notes.tolist():
        chosen = note_program if program is None else program
        inst = instruments.setdefault(chosen, pretty_midi.Instrument(program=chosen))
        inst.notes.append(pretty_midi.Note(int(velocity), int(pitch), start * seconds_per_step, end * seconds_per_step))
    midi.instruments.extend(instruments.values())
    with atomic_path(path) as tmp:
        midi.write(str(tmp))
    return Path(path)
