"""Harmonize a melody: keep it as the top voice, note for note, and sample the voices under it.

The onset piano roll (genseq.music.encode.OnsetRollEncoding) lays its units out from the highest
key down, and its joint (NADE) head draws them in that order. So at each step the melody's key,
and every key above it, come first in the order: they are clamped (the melody's key to its onset
or held unit, the keys above it off) and only the keys below are drawn, from the head's exact
conditional distribution given the melody's note and everything before. Where the melody rests,
the whole step is clamped silent (nothing may sound above a rest of the top voice).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from genseq.core.errors import GenseqError
from genseq.core.notes import END, PITCH, START, NoteSequence, bar_positions
from genseq.core.options import SamplingOptions
from genseq.core.paths import bundled_checkpoint
from genseq.model.sampler import Sampler
from genseq.music.encode import HELD, ONSET, PIANO_KEYS, PIANO_LOW, OnsetRollEncoding
from genseq.music.joint_draw import draw_below
from genseq.music.long_form import PieceControls, joint_score, sample_long_form
from genseq.music.statistics import melody_line

Progress = Callable[[int, int], None]
MELODY_VELOCITY, VOICES_VELOCITY = 90, 70
HARMONIZER = "music-chorales.pt"  # the bundled onsetroll model of the Bach chorales (assets/README.md)
# each jump of the lower voices from its 0.85 nucleus: chosen by bench/music_samples.py --harmonize (36 held-out
# chorales, worst statistic 1.12 sd against 2.13 exact; 0.95: 1.81, 0.9: 1.92, 0.8: 1.42, 0.7: 1.85, epsilon 0.01: 2.37,
# a state window of 128 steps: 2.06)
HARMONIZE_CONTROLS = PieceControls(top_p=0.85)


def melody_clamps(encoding: OnsetRollEncoding, melody: NoteSequence) -> tuple[np.ndarray, np.ndarray]:
    """Per step: how many units (from the top) are clamped, and their values (steps, units).
    The melody's key and the keys above it at each step; every unit where it rests."""
    steps, units = melody.total_steps, encoding.value_size
    clamped = np.full(steps, units, dtype=np.int64)
    values = np.zeros((steps, units), dtype=np.float32)
    for pitch, _, start, end, _ in melody.notes.tolist():
        if not PIANO_LOW <= pitch < PIANO_LOW + PIANO_KEYS:
            raise GenseqError(f"melody note {pitch} is outside the piano's keys ({PIANO_LOW}..{PIANO_LOW + PIANO_KEYS - 1})",
                              melody.name or None)
        clamped[start:end] = encoding.unit(pitch, HELD) + 1
        values[start, encoding.unit(pitch, ONSET)] = 1.0
        values[start + 1 : end, encoding.unit(pitch, HELD)] = 1.0
    return clamped, values


def check_harmonizer(loaded) -> OnsetRollEncoding:
    encoding = loaded.representation
    if not isinstance(encoding, OnsetRollEncoding) or getattr(loaded.model, "joint", None) is None:
        raise GenseqError(f"harmonizing needs a piano-roll model with onsets and a joint head (representation onsetroll, "
                          f"head nade); this one is {encoding.name} with a {loaded.model.config.head} head",
                          loaded.payload.get("path"))
    return encoding


@torch.no_grad()
def harmonize_melody(loaded, melody: NoteSequence, options: SamplingOptions, num_outputs: int = 1,
                     qpm: float | None = None, progress: Progress | None = None,
                     controls: PieceControls | None = None) -> list[NoteSequence]:
    """num_outputs harmonizations of `melody` (its top line is kept exactly, on the model's grid) under a
    loaded onsetroll model; each a NoteSequence in the melody's metre and tempo (or `qpm`). controls:
    how the whole piece is drawn (default: HARMONIZE_CONTROLS)."""
    encoding = check_harmonizer(loaded)
    if melody.steps_per_quarter != encoding.steps_per_quarter:
        raise GenseqError(f"melody quantised at {melody.steps_per_quarter} steps per quarter, model expects "
                          f"{encoding.steps_per_quarter}", melody.name or None)
    line = melody_line(melody)
    if len(line) == 0:
        raise GenseqError("the melody has no notes", melody.name or None)
    clamped, fixed = melody_clamps(encoding, line)
    sampled = sample_clamped(loaded, encoding, line.time_signatures, clamped, fixed, options, num_outputs, progress,
                             HARMONIZE_CONTROLS if controls is None else controls)
    return [harmonized_sequence(encoding, line, values, qpm or melody.qpm, f"sample_{index:03d}")
            for index, values in enumerate(sampled)]


def sample_clamped(loaded, encoding: OnsetRollEncoding, signatures, clamped: np.ndarray, fixed: np.ndarray,
                   options: SamplingOptions, num_outputs: int, progress: Progress | None,
                   controls: PieceControls = PieceControls()) -> np.ndarray:
    """(B, steps, units): each step drawn under its clamps, then fed back (a START row first); a whole
    piece drawn under `controls` (state window, candidates chosen between at bar lines)."""
    steps = len(clamped)
    metric_rows = encoding.metric.for_steps(signatures, np.arange(steps))
    metric = torch.from_numpy(metric_rows).to(loaded.device)
    # the torch path keeps each step's outputs public (sampler.outputs), which the clamped draw reads
    sampler = Sampler(loaded.model, encoding.head, options, fast=False)
    start = np.concatenate([encoding.value_vectors(encoding.silence()), metric_rows[:1]], axis=1)

    def draw(step: int) -> torch.Tensor:
        return torch.from_numpy(draw_below(loaded.model.joint, sampler.outputs, int(clamped[step]), fixed[step],
                                           options.temperature, options.top_k, sampler.generator, controls.epsilon,
                                           controls.top_p))

    def next_input(values: torch.Tensor, step: int) -> torch.Tensor:
        return torch.cat([encoding.value_vectors_torch(values), metric[step + 1].expand(len(values), -1)], dim=-1)

    in_bar, _ = bar_positions(signatures, encoding.steps_per_quarter, np.arange(steps))
    on_step = None if progress is None else (lambda done: progress(done, steps))
    return sample_long_form(sampler, start, next_input, steps, num_outputs, controls, in_bar == 0,
                            joint_score(loaded.model), on_step, draw).cpu().numpy()


def harmonized_sequence(encoding: OnsetRollEncoding, line: NoteSequence, values: np.ndarray, qpm: float, name: str) -> NoteSequence:
    """The melody's own notes over the drawn voices (decoded with the melody's keys taken out, so a
    voice that lands on a key the melody just left starts a note of its own)."""
    voices = values.copy()
    for pitch, _, start, end, _ in line.notes.tolist():
        voices[start:end, [encoding.unit(pitch, ONSET), encoding.unit(pitch, HELD)]] = 0.0
    lower = [(pitch, VOICES_VELOCITY, start, end, 0) for pitch, start, end in encoding.note_spans(voices)]
    top = [(pitch, MELODY_VELOCITY, start, end, 0) for pitch, start, end in line.notes[:, [PITCH, START, END]].tolist()]
    notes = np.array(top + lower, dtype=np.int32).reshape(-1, 5)
    notes = notes[np.lexsort((notes[:, PITCH], notes[:, START]))]
    return NoteSequence(notes, encoding.steps_per_quarter, qpm, list(line.time_signatures), line.total_steps, name)


def read_melody(path: str | Path, steps_per_quarter: int) -> NoteSequence:
    """A melody to harmonize: a MIDI file (its top line is the melody) or a recording (transcribed)."""
    from genseq.music.audio import AUDIO_SUFFIXES, transcribe_audio
    from genseq.music.midi import read_midi

    if Path(path).suffix.lower() in AUDIO_SUFFIXES:
        return transcribe_audio(path, steps_per_quarter)
    return read_midi(path, steps_per_quarter)


def harmonize_pieces(options, progress: Progress | None = None) -> list[NoteSequence]:
    """options.num_outputs harmonizations of the melody options.harmonize names (GenerateMusicOptions; the
    bundled chorale model unless options.checkpoint), named sample_NNN, as long as the melody; nothing written."""
    from genseq.model.load import load_model
    from genseq.music.domain import MUSIC
    from genseq.music.generate import usable_tempo

    if options.primer is not None:
        raise GenseqError("--harmonize and --primer both give the music to build on; give one of them", "--harmonize")
    loaded = load_model(options.checkpoint or bundled_checkpoint(HARMONIZER), MUSIC, options.device)
    encoding = check_harmonizer(loaded)
    melody = read_melody(options.harmonize, encoding.steps_per_quarter)
    return harmonize_melody(loaded, melody, options, options.num_outputs, options.tempo or usable_tempo(melody.qpm), progress)
