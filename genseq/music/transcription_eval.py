"""Note-level scores of transcriptions against reference MIDI (mir_eval's matching: an estimated note
matches a reference note when its onset is within 50 ms and its pitch within 50 cents; offsets are
ignored unless asked for)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genseq.core.errors import GenseqError
from genseq.core.files import find_files
from genseq.music.midi import MIDI_SUFFIXES

ONSET_TOLERANCE_SECONDS = 0.05
PITCH_TOLERANCE_CENTS = 50.0


@dataclass
class NoteScores:
    precision: float
    recall: float
    f1: float
    matched: int
    reference_notes: int
    estimated_notes: int

    @classmethod
    def from_counts(cls, matched: int, reference_notes: int, estimated_notes: int) -> "NoteScores":
        precision = matched / estimated_notes if estimated_notes else 0.0
        recall = matched / reference_notes if reference_notes else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1, matched, reference_notes, estimated_notes)

    def rounded(self) -> dict:
        return {key: round(value, 4) if isinstance(value, float) else value for key, value in self.__dict__.items()}


def reference_notes(midi_path: str | Path) -> np.ndarray:
    """(onset s, offset s, MIDI pitch) rows of every non-drum note in a MIDI file, in time order."""
    from genseq.music.midi import load_pretty_midi

    midi = load_pretty_midi(midi_path)
    rows = [(note.start, note.end, note.pitch) for inst in midi.instruments if not inst.is_drum for note in inst.notes]
    if not rows:
        raise GenseqError("the reference MIDI file has no notes", midi_path)
    rows.sort()
    return np.array(rows, dtype=np.float64)


def score_notes(reference: np.ndarray, estimated: np.ndarray, with_offsets: bool = False) -> NoteScores:
    """Scores of estimated against reference notes; both are (onset s, offset s, MIDI pitch, ...) rows."""
    import mir_eval

    if len(reference) == 0 or len(estimated) == 0:
        return NoteScores.from_counts(0, len(reference), len(estimated))
    matching = mir_eval.transcription.match_notes(
        _intervals(reference), _hertz(reference), _intervals(estimated), _hertz(estimated),
        onset_tolerance=ONSET_TOLERANCE_SECONDS, pitch_tolerance=PITCH_TOLERANCE_CENTS,
        offset_ratio=0.2 if with_offsets else None,
    )
    return NoteScores.from_counts(len(matching), len(reference), len(estimated))


def _intervals(notes: np.ndarray) -> np.ndarray:
    intervals = notes[:, :2].astype(np.float64).copy()
    intervals[:, 1] = np.maximum(intervals[:, 1], intervals[:, 0] + 1e-3)  # mir_eval needs positive durations
    return intervals


def _hertz(notes: np.ndarray) -> np.ndarray:
    return 440.0 * 2.0 ** ((notes[:, 2].astype(np.float64) - 69.0) / 12.0)


def pair_recordings(audio_dir: str | Path, reference_dir: str | Path) -> list[tuple[Path, Path]]:
    """(recording, reference MIDI) pairs matched by file name without suffix (relative to each
    folder, so sub-folders pair too). GenseqError when nothing pairs."""
    from genseq.music.audio import AUDIO_SUFFIXES

    audio_dir, reference_dir = Path(audio_dir), Path(reference_dir)
    for folder in (audio_dir, reference_dir):
        if not folder.is_dir():
            raise GenseqError("not a folder", folder)
    references = {path.relative_to(reference_dir).with_suffix(""): path for path in find_files([reference_dir], MIDI_SUFFIXES)}
    pairs = []
    for recording in find_files([audio_dir], AUDIO_SUFFIXES):
        reference = references.get(recording.relative_to(audio_dir).with_suffix(""))
        if reference is not None:
            pairs.append((recording, reference))
    if not pairs:
        raise GenseqError(f"no recording there has a reference MIDI file of the same name in {reference_dir}", audio_dir)
    return pairs


def evaluate_transcriptions(audio_dir: str | Path, reference_dir: str | Path, on_file=None) -> dict:
    """Transcribe every recording that has a reference and score it: per file, and over all notes.

    A recording that cannot be transcribed counts as no notes (recall 0) and is listed with its
    reason. ``on_file(done, total)`` is called once before the first file and after each file."""
    from genseq.music.audio import transcribe_file

    pairs = pair_recordings(audio_dir, reference_dir)
    if on_file is not None:
        on_file(0, len(pairs))
    rows, totals, totals_with_offsets = [], np.zeros(3, int), np.zeros(3, int)
    audio_seconds = compute_seconds = 0.0
    for done, (recording, reference_path) in enumerate(pairs, 1):
        reference = reference_notes(reference_path)
        started = time.perf_counter()
        try:
            transcription = transcribe_file(recording)
            estimated, problem = transcription.notes, None
            audio_seconds += transcription.duration_seconds
        except GenseqError as error:
            estimated, problem = np.zeros((0, 4)), error.problem
        compute_seconds += time.perf_counter() - started
        scores = score_notes(reference, estimated)
        with_offsets = score_notes(reference, estimated, with_offsets=True)
        totals += (scores.matched, scores.reference_notes, scores.estimated_notes)
        totals_with_offsets += (with_offsets.matched, with_offsets.reference_notes, with_offsets.estimated_notes)
        rows.append({"file": str(recording), "reference": str(reference_path), **scores.rounded(),
                     "f1_with_offsets": round(with_offsets.f1, 4), **({"problem": problem} if problem else {})})
        if on_file is not None:
            on_file(done, len(pairs))
    overall = NoteScores.from_counts(*totals.tolist())
    return {
        "files": len(rows),
        **overall.rounded(),
        "mean_file_f1": round(float(np.mean([row["f1"] for row in rows])), 4),
        "f1_with_offsets": round(NoteScores.from_counts(*totals_with_offsets.tolist()).f1, 4),
        "onset_tolerance_seconds": ONSET_TOLERANCE_SECONDS,
        "pitch_tolerance_cents": PITCH_TOLERANCE_CENTS,
        "audio_seconds": round(audio_seconds, 1),
        "realtime_factor": round(audio_seconds / compute_seconds, 1) if compute_seconds else None,
        "per_file": rows,
    }
