"""Encodings of a NoteSequence for the sequence model: melody events, piano-roll frames (the
likelihood benchmarks' quarter-note frames) and piano rolls with onsets (generation with rhythm).

Both share one layout: step t of the model reads the previous step's value plus the metric
position of step t (three time scales: position in the beat, in the bar, and bar in a
4-bar phrase) and predicts the value at step t. A piano roll of T steps gives T-1 predictions:
the first step is never predicted (the Nottingham benchmark's protocol). A melody (with its
start input, the default) gives T: every piece's first input is a START row that no other step
has, and an unprimed generation begins from that same row, so it starts the way pieces start.
"""

from __future__ import annotations

import numpy as np

from genseq.core.errors import GenseqError
from genseq.core.notes import PITCH, START, NoteSequence, bar_positions
from genseq.core.pieces import EncodedPiece

PIANO_LOW, PIANO_KEYS = 21, 88
PHRASE_BARS = 4
REST, HOLD, FIRST_PITCH_EVENT = 0, 1, 2


def one_hot(indices: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((len(indices), size), dtype=np.float32)
    out[np.arange(len(indices)), indices] = 1.0
    return out


class MetricFeatures:
    """Position of each step in the beat, the bar and the phrase, as one-hot blocks."""

    def __init__(self, steps_per_quarter: int):
        self.steps_per_quarter = steps_per_quarter
        self.bar_slots = steps_per_quarter * 8  # up to two whole notes per bar (e.g. 8/4, 16/8)
        self.size = steps_per_quarter + self.bar_slots + PHRASE_BARS

    def for_steps(self, time_signatures, steps: np.ndarray) -> np.ndarray:
        """Features (len(steps), size) of absolute steps under the given time signatures."""
        in_bar, bar = bar_positions(time_signatures, self.steps_per_quarter, steps)
        step = np.asarray(steps)
        return np.concatenate(
            [
                one_hot(step % self.steps_per_quarter, self.steps_per_quarter),
                one_hot(in_bar % self.bar_slots, self.bar_slots),
                one_hot(bar % PHRASE_BARS, PHRASE_BARS),
            ],
            axis=1,
        )


class Encoding:
    """What a representation tells the model: sizes, head, and how values become inputs."""

    name: str
    head: str  # "categorical" or "bernoulli"
    value_size: int

    def __init__(self, steps_per_quarter: int):
        self.steps_per_quarter = steps_per_quarter
        self.metric = MetricFeatures(steps_per_quarter)

    @property
    def input_size(self) -> int:
        return self.value_size + self.metric.size

    def metadata(self) -> dict:
        return {"name": self.name, "steps_per_quarter": self.steps_per_quarter}

    def values(self, sequence: NoteSequence) -> np.ndarray:
        raise NotImplementedError

    def value_vectors(self, values: np.ndarray) -> np.ndarray:
        """Model-input vectors (T, value_size) of encoded values."""
        raise NotImplementedError

    def value_vectors_torch(self, values):
        """The same for a batch of sampled values (B, ...) -> (B, value_size), on their device."""
        raise NotImplementedError

    def silence(self) -> np.ndarray:
        """The lead-in value when there is no primer: one step of nothing playing, or the start
        value when the encoding has one (its input row at step 0 predicts step 0)."""
        raise NotImplementedError

    def lead_in(self) -> np.ndarray:
        """Values every encoded piece is preceded by, as value_vectors reads them (none: the first
        step is not predicted)."""
        return np.zeros(0, dtype=np.int64)

    def to_sequence(self, values: np.ndarray, qpm: float, time_signatures, name: str = "") -> NoteSequence:
        raise NotImplementedError

    def encode(self, sequence: NoteSequence) -> EncodedPiece:
        if sequence.steps_per_quarter != self.steps_per_quarter:
            raise GenseqError(
                f"quantised at {sequence.steps_per_quarter} steps per quarter, model expects {self.steps_per_quarter}",
                sequence.name or None,
            )
        values = self.values(sequence)
        lead = self.lead_in()
        predicted = np.arange(1 - len(lead), len(values))  # the steps whose values are targets
        metric = self.metric.for_steps(sequence.time_signatures, predicted)
        fed = [self.value_vectors(lead)] if len(lead) else []
        inputs = np.concatenate([np.concatenate(fed + [self.value_vectors(values[:-1])]), metric], axis=1)
        targets = values[predicted].astype(np.float32 if self.head == "bernoulli" else np.int64)
        return EncodedPiece(inputs, targets)


class PianorollEncoding(Encoding):
    """88 keys (MIDI 21..108) per step, predicted as 88 independent Bernoullis."""

    name = "pianoroll"
    head = "bernoulli"
    value_size = PIANO_KEYS

    def values(self, sequence: NoteSequence) -> np.ndarray:
        roll = np.zeros((sequence.total_steps, PIANO_KEYS), dtype=np.float32)
        for pitch, _, start, end, _ in sequence.notes.tolist():
            if PIANO_LOW <= pitch < PIANO_LOW + PIANO_KEYS:
                roll[start:end, pitch - PIANO_LOW] = 1.0
        return roll

    def value_vectors(self, values: np.ndarray) -> np.ndarray:
        return values.astype(np.float32).reshape(-1, PIANO_KEYS)

    def value_vectors_torch(self, values):
        return values.float()

    def silence(self) -> np.ndarray:
        return np.zeros((1, PIANO_KEYS), dtype=np.float32)

    def to_sequence(self, values, qpm, time_signatures, name="", velocity: int = 80) -> NoteSequence:
        """Frames to notes: a key held over consecutive frames is one note (as the benchmark files are written)."""
        roll = np.asarray(values, dtype=bool)
        padded = np.zeros((len(roll) + 2, PIANO_KEYS), dtype=np.int8)
        padded[1:-1] = roll
        change = np.diff(padded, axis=0)
        rows = []
        for key in range(PIANO_KEYS):
            starts = np.flatnonzero(change[:, key] == 1)
            ends = np.flatnonzero(change[:, key] == -1)
            rows.extend((PIANO_LOW + key, velocity, s, e, 0) for s, e in zip(starts, ends))
        notes = np.array(rows, dtype=np.int32).reshape(-1, 5)
        notes = notes[np.lexsort((notes[:, PITCH], notes[:, START]))] if len(notes) else notes
        return NoteSequence(notes, self.steps_per_quarter, qpm, list(time_signatures), len(roll), name)


ONSET, HELD = 0, 1  # the two units of a key in OnsetRollEncoding


class OnsetRollEncoding(Encoding):
    """A piano roll with rhythm: per step and key one of off / onset / held, as two binary units
    (onset, held) modelled jointly by the NADE head, so a repeated note (onset after onset) and
    notes shorter than a beat exist. Units are laid out from the highest key down, so the joint
    head decides the top voice first (a harmonizer clamps it: genseq.music.harmonize).

    Like the melody it has a START input: one more input unit, on only in the row before a piece's
    first step, so every step is predicted and an unprimed piece starts the way pieces start.
    """

    name = "onsetroll"
    head = "bernoulli"
    value_size = 2 * PIANO_KEYS

    @property
    def input_size(self) -> int:
        return self.value_size + 1 + self.metric.size

    @staticmethod
    def unit(pitch: int | np.ndarray, kind: int) -> int | np.ndarray:
        """Index of a key's onset or held unit (highest key first)."""
        return 2 * (PIANO_LOW + PIANO_KEYS - 1 - pitch) + kind

    @staticmethod
    def pitch_of(unit: int | np.ndarray) -> int | np.ndarray:
        return PIANO_LOW + PIANO_KEYS - 1 - unit // 2

    def lead_in(self) -> np.ndarray:
        start = np.zeros((1, self.value_size + 1), dtype=np.float32)
        start[0, -1] = 1.0
        return start

    def silence(self) -> np.ndarray:
        return self.lead_in()

    def values(self, sequence: NoteSequence) -> np.ndarray:
        roll = np.zeros((sequence.total_steps, self.value_size), dtype=np.float32)
        notes = [n for n in sequence.notes.tolist() if PIANO_LOW <= n[PITCH] < PIANO_LOW + PIANO_KEYS]
        for pitch, _, start, end, _ in notes:
            roll[start + 1 : end, self.unit(pitch, HELD)] = 1.0
        for pitch, _, start, end, _ in notes:  # an onset wins over a note still held on the same key
            if end > start:
                roll[start, self.unit(pitch, ONSET)], roll[start, self.unit(pitch, HELD)] = 1.0, 0.0
        return roll

    def value_vectors(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float32).reshape(len(values), -1)
        if values.shape[1] == self.value_size:  # a step's value: the START unit is off
            values = np.concatenate([values, np.zeros((len(values), 1), dtype=np.float32)], axis=1)
        return values

    def value_vectors_torch(self, values):
        import torch

        values = values.float()
        return torch.cat([values, values.new_zeros(values.shape[0], 1)], dim=-1)

    def note_spans(self, values: np.ndarray) -> list[tuple[int, int, int]]:
        """(pitch, start, end) of every note: an onset starts one, a held unit continues the key's
        note (one with nothing sounding before it starts one too)."""
        on = np.asarray(values)[:, : self.value_size] > 0.5
        onset, held = on[:, 0::2], on[:, 1::2]  # (T, keys), highest key first
        sounding = onset | held
        before = np.vstack([np.zeros((1, PIANO_KEYS), dtype=bool), sounding[:-1]])
        continues = held & ~onset & before
        after = np.vstack([continues[1:], np.zeros((1, PIANO_KEYS), dtype=bool)])
        spans = []
        for column in np.flatnonzero(sounding.any(0)):
            starts = np.flatnonzero(sounding[:, column] & ~continues[:, column])
            ends = np.flatnonzero(sounding[:, column] & ~after[:, column]) + 1
            pitch = int(self.pitch_of(2 * column))
            spans.extend((pitch, int(a), int(b)) for a, b in zip(starts, ends))
        return spans

    def to_sequence(self, values, qpm, time_signatures, name="", velocity: int = 80) -> NoteSequence:
        rows = [(pitch, velocity, start, end, 0) for pitch, start, end in self.note_spans(values)]
        notes = np.array(rows, dtype=np.int32).reshape(-1, 5)
        notes = notes[np.lexsort((notes[:, PITCH], notes[:, START]))] if len(notes) else notes
        return NoteSequence(notes, self.steps_per_quarter, qpm, list(time_signatures), len(values), name)


class MelodyEncoding(Encoding):
    """One monophonic line (the highest voice) as events per step: rest, hold, or note-on of a pitch.

    With ``start_input`` (the default; checkpoints made before it have none) the input has one
    more event, START (index value_size), fed only before a piece's first step: it is never a target.
    """

    name = "melody"
    head = "categorical"

    def __init__(self, steps_per_quarter: int, min_pitch: int = 36, max_pitch: int = 96, start_input: bool = True):
        super().__init__(steps_per_quarter)
        self.min_pitch, self.max_pitch = min_pitch, max_pitch
        self.value_size = FIRST_PITCH_EVENT + max_pitch - min_pitch + 1
        self.start_input = start_input
        self.start_event = self.value_size  # input-only
        self.input_value_size = self.value_size + int(start_input)

    @property
    def input_size(self) -> int:
        return self.input_value_size + self.metric.size

    def metadata(self) -> dict:
        return {**super().metadata(), "min_pitch": self.min_pitch, "max_pitch": self.max_pitch,
                "start_input": self.start_input}

    def lead_in(self) -> np.ndarray:
        return np.array([self.start_event] if self.start_input else [], dtype=np.int64)

    def fold_pitch(self, pitch: int) -> int:
        """Move a pitch by octaves into the model's range."""
        while pitch < self.min_pitch:
            pitch += 12
        while pitch > self.max_pitch:
            pitch -= 12
        return pitch

    def values(self, sequence: NoteSequence) -> np.ndarray:
        """Skyline melody: at each step the highest sounding note; a note-on where it starts."""
        top_pitch = np.full(sequence.total_steps, -1, dtype=np.int64)
        top_start = np.full(sequence.total_steps, -1, dtype=np.int64)
        for pitch, _, start, end, _ in sequence.notes.tolist():
            span = slice(start, end)
            higher = top_pitch[span] < pitch
            top_pitch[span] = np.where(higher, pitch, top_pitch[span])
            top_start[span] = np.where(higher, start, top_start[span])
        events = np.full(sequence.total_steps, REST, dtype=np.int64)
        steps = np.arange(sequence.total_steps)
        sounding = top_pitch >= 0
        changed = np.r_[True, (top_pitch[1:] != top_pitch[:-1]) | (top_start[1:] != top_start[:-1])]
        onset = sounding & (changed | (top_start == steps))
        events[sounding & ~onset] = HOLD
        folded = np.array([self.fold_pitch(p) for p in top_pitch[onset]], dtype=np.int64)
        events[onset] = FIRST_PITCH_EVENT + folded - self.min_pitch
        return events

    def value_vectors(self, values: np.ndarray) -> np.ndarray:
        return one_hot(np.asarray(values, dtype=np.int64), self.input_value_size)

    def value_vectors_torch(self, values):
        import torch.nn.functional as F

        return F.one_hot(values.long(), self.input_value_size).float()

    def silence(self) -> np.ndarray:
        return self.lead_in() if self.start_input else np.array([REST], dtype=np.int64)

    def to_sequence(self, values, qpm, time_signatures, name="", velocity: int = 90, program: int = 0) -> NoteSequence:
        rows = []
        current = None
        for step, event in enumerate(np.asarray(values).tolist() + [REST]):
            if current is not None and event != HOLD:
                rows.append((current[0], velocity, current[1], step, program))
                current = None
            if event >= FIRST_PITCH_EVENT:
                current = (self.min_pitch + event - FIRST_PITCH_EVENT, step)
        return NoteSequence(np.array(rows, dtype=np.int32).reshape(-1, 5), self.steps_per_quarter, qpm, list(time_signatures), len(values), name)

    def transpose_fits(self, sequence: NoteSequence, semitones: int) -> bool:
        values = self.values(sequence)
        pitches = values[values >= FIRST_PITCH_EVENT] - FIRST_PITCH_EVENT + self.min_pitch + semitones
        return bool(len(pitches) == 0 or (pitches.min() >= self.min_pitch and pitches.max() <= self.max_pitch))


def make_encoding(metadata: dict) -> Encoding:
    name = metadata.get("name")
    if name == "pianoroll":
        return PianorollEncoding(int(metadata["steps_per_quarter"]))
    if name == OnsetRollEncoding.name:
        return OnsetRollEncoding(int(metadata["steps_per_quarter"]))
    if name == "melody":
        return MelodyEncoding(int(metadata["steps_per_quarter"]), int(metadata.get("min_pitch", 36)),
                              int(metadata.get("max_pitch", 96)), bool(metadata.get("start_input", False)))
    raise GenseqError(f"unknown representation {name!r} (expected melody, pianoroll or onsetroll)")
