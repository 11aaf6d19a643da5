"""NoteSequence: the one interchange type of the music path.

Notes live on a quantised grid (``steps_per_quarter`` steps per quarter note), so tempo
changes in the source do not move them; ``qpm`` is the tempo used when they are played back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genseq.core.atomic import atomic_path
from genseq.core.errors import GenseqError

PITCH, VELOCITY, START, END, PROGRAM = range(5)
NOTE_COLUMNS = ("pitch", "velocity", "start", "end", "program")


@dataclass
class NoteSequence:
    """Quantised notes of one piece: ``notes`` is an int array (N, 5) of NOTE_COLUMNS."""

    notes: np.ndarray
    steps_per_quarter: int = 4
    qpm: float = 120.0
    # (step, numerator, denominator), sorted by step; the first starts at step 0
    time_signatures: list[tuple[int, int, int]] = field(default_factory=lambda: [(0, 4, 4)])
    total_steps: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        self.notes = np.asarray(self.notes, dtype=np.int32).reshape(-1, len(NOTE_COLUMNS))
        if self.total_steps == 0 and len(self.notes):
            self.total_steps = int(self.notes[:, END].max())

    def __len__(self) -> int:
        return len(self.notes)

    @property
    def seconds_per_step(self) -> float:
        return 60.0 / self.qpm / self.steps_per_quarter

    @property
    def duration_seconds(self) -> float:
        return self.total_steps * self.seconds_per_step

    def bar_position(self) -> tuple[np.ndarray, np.ndarray]:
        """Per step: the position within its bar and the index of its bar."""
        return bar_positions(self.time_signatures, self.steps_per_quarter, np.arange(self.total_steps))

    def transposed(self, semitones: int) -> "NoteSequence":
        notes = self.notes.copy()
        notes[:, PITCH] += semitones
        return NoteSequence(notes, self.steps_per_quarter, self.qpm, list(self.time_signatures), self.total_steps, self.name)

    def sliced(self, start: int, stop: int) -> "NoteSequence":
        """Notes sounding in [start, stop), clipped and shifted to begin at step 0."""
        keep = (self.notes[:, START] < stop) & (self.notes[:, END] > start)
        notes = self.notes[keep].copy()
        notes[:, START] = np.maximum(notes[:, START], start) - start
        notes[:, END] = np.minimum(notes[:, END], stop) - start
        signatures = [(max(0, s - start), n, d) for s, n, d in self.time_signatures if s < stop]
        signatures = [sig for i, sig in enumerate(signatures) if i + 1 == len(signatures) or signatures[i + 1][0] > sig[0]]
        return NoteSequence(notes, self.steps_per_quarter, self.qpm, signatures or [(0, 4, 4)], stop - start, self.name)


def steps_per_bar(steps_per_quarter: int, numerator: int, denominator: int) -> int:
    return max(1, round(steps_per_quarter * 4 * numerator / denominator))


def bar_positions(time_signatures, steps_per_quarter: int, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position within the bar and bar index of each (possibly negative) step.

    Steps before the first signature count backwards in that signature's bars.
    """
    steps = np.asarray(steps, dtype=np.int64)
    signature_steps = np.array([s for s, _, _ in time_signatures], dtype=np.int64)
    lengths = np.array([steps_per_bar(steps_per_quarter, n, d) for _, n, d in time_signatures], dtype=np.int64)
    spans = np.diff(signature_steps)
    bars_in = -(-spans // lengths[:-1])  # a partial bar before a change counts as a bar
    bars_before = np.concatenate([[0], np.cumsum(bars_in)])
    which = np.clip(np.searchsorted(signature_steps, steps, side="right") - 1, 0, len(signature_steps) - 1)
    offset = steps - signature_steps[which]
    return offset % lengths[which], bars_before[which] + offset // lengths[which]


def dataset_path(path: str | Path) -> Path:
    """Where save_sequences writes `path`: a name without .npz gets it appended (as numpy does). An
    existing folder is refused, as every output that is a file refuses one (not written beside it)."""
    path = Path(path)
    if path.is_dir():
        raise GenseqError("is a folder; give a file name for this output", path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save_sequences(sequences: list[NoteSequence], path: str | Path) -> Path:
    """Write a note-sequence dataset file (.npz, no pickled objects)."""
    path = Path(path)
    counts = [len(s) for s in sequences]
    sig_counts = [len(s.time_signatures) for s in sequences]
    arrays = {
        "format": np.array("genseq-notes-1"),
        "notes": np.concatenate([s.notes for s in sequences]) if sequences else np.zeros((0, 5), np.int32),
        "note_counts": np.array(counts, dtype=np.int64),
        "time_signatures": np.array([sig for s in sequences for sig in s.time_signatures], dtype=np.int64).reshape(-1, 3),
        "signature_counts": np.array(sig_counts, dtype=np.int64),
        "steps_per_quarter": np.array([s.steps_per_quarter for s in sequences], dtype=np.int64),
        "qpm": np.array([s.qpm for s in sequences], dtype=np.float64),
        "total_steps": np.array([s.total_steps for s in sequences], dtype=np.int64),
        "names": np.array([s.name for s in sequences], dtype=np.str_),
    }
    path = dataset_path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
    return path


def load_sequences(path: str | Path) -> list[NoteSequence]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if "format" not in data or str(data["format"]) != "genseq-notes-1":
                raise GenseqError("not a genseq note-sequence dataset file", path)
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise GenseqError(f"cannot read note-sequence dataset ({exc})", path) from None
    note_ends = np.cumsum(arrays["note_counts"])
    sig_ends = np.cumsum(arrays["signature_counts"])
    sequences = []
    for i in range(len(note_ends)):
        notes = arrays["notes"][note_ends[i] - arrays["note_counts"][i] : note_ends[i]]
        sigs = arrays["time_signatures"][sig_ends[i] - arrays["signature_counts"][i] : sig_ends[i]]
        sequences.append(
            NoteSequence(
                notes,
                int(arrays["steps_per_quarter"][i]),
                float(arrays["qpm"][i]),
                [tuple(int(v) for v in sig) for sig in sigs],
                int(arrays["total_steps"][i]),
                str(arrays["names"][i]),
            )
        )
    return sequences
