"""The step-by-step session: a music model's recurrent state on the one Sampler, fed one grid
step at a time (or a whole call at once) and drawn from one step at a time.

Step t of the model reads the value of step t-1 and the metric position of step t (the layout of
genseq.music.encode) and predicts the value of step t. Steps count from the start of a phrase in
4/4, so a phrase's first step sits on a bar line. Each step is one cell update and one draw on a
state of fixed size: a session can run for ever in constant memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genseq.core.notes import NoteSequence, steps_per_bar
from genseq.core.options import SamplingOptions
from genseq.core.paths import bundled_checkpoint
from genseq.model.sampler import Sampler

TIME_SIGNATURES = [(0, 4, 4)]


@dataclass
class MusicModel:
    """A loaded music model and its encoding (MelodyEncoding or PianorollEncoding)."""

    model: torch.nn.Module
    encoding: object

    @property
    def steps_per_quarter(self) -> int:
        return self.encoding.steps_per_quarter

    @property
    def steps_per_bar(self) -> int:
        return steps_per_bar(self.encoding.steps_per_quarter, 4, 4)


def load_music_model(checkpoint: str | Path | None, representation: str = "melody") -> MusicModel:
    """The checkpoint's model (the bundled one of `representation` when None), on the CPU: live play
    runs at batch 1, where one CPU thread answers in well under a millisecond a step."""
    from genseq.model.load import load_model
    from genseq.music.domain import MUSIC

    loaded = load_model(checkpoint or bundled_checkpoint(f"music-{representation}.pt"), MUSIC, "cpu")
    return MusicModel(loaded.model, loaded.representation)


class StepSession:
    """One stream of steps through a music model: `listen` to played values, `draw` new ones."""

    def __init__(self, music: MusicModel, options: SamplingOptions):
        self.music, self.encoding = music, music.encoding
        self.sampler = Sampler(music.model, self.encoding.head, options)
        self.metric_rows: dict[int, np.ndarray] = {}  # metric features repeat every 4 bars: a bounded cache
        self.start_phrase()

    @property
    def options(self) -> SamplingOptions:
        return self.sampler.options

    def set_sampling(self, **changes) -> None:
        """Change temperature, top_k or top_p from the next draw on (a controller knob)."""
        self.sampler.options = self.sampler.options.model_copy(update=changes)

    def start_phrase(self) -> None:
        """Forget the state; the next step is step 0 of a new phrase, read after the lead-in value."""
        self.sampler.reset()
        self.step = 0
        self.last_value = self.encoding.silence()[-1]

    def metric(self, step: int) -> np.ndarray:
        period = 4 * self.music.steps_per_bar  # the phrase feature counts bars modulo 4
        key = step % period
        row = self.metric_rows.get(key)
        if row is None:
            row = self.encoding.metric.for_steps(TIME_SIGNATURES, np.array([key]))[0]
            self.metric_rows[key] = row
        return row

    def inputs(self, vectors: np.ndarray, first_step: int) -> np.ndarray:
        """(T, F) model inputs for steps first_step.. that read the value `vectors` (one row a step)."""
        metric = np.stack([self.metric(first_step + offset) for offset in range(len(vectors))])
        return np.concatenate([vectors, metric], axis=1)

    def listen(self, values: np.ndarray) -> None:
        """Advance through played steps (melody events or piano-roll frames) in one model call."""
        values = np.asarray(values)
        if len(values) == 0:
            return
        vectors = np.concatenate([self.vector(self.last_value), self.encoding.value_vectors(values[:-1])])
        self.sampler.feed(self.inputs(vectors, self.step)[None])
        self.step += len(values)
        self.last_value = values[-1]

    def vector(self, value) -> np.ndarray:
        return self.encoding.value_vectors(np.asarray([value]))

    def draw(self) -> np.ndarray | int:
        """The value of the next step, sampled; it becomes what the step after reads."""
        self.sampler.feed(self.inputs(self.vector(self.last_value), self.step))
        value = self.sampler.draw()[0].cpu().numpy()
        value = int(value) if value.ndim == 0 else value.astype(np.float32)
        self.step += 1
        self.last_value = value
        return value

    def draw_steps(self, count: int) -> np.ndarray:
        return np.stack([np.asarray(self.draw()) for _ in range(count)]) if count else np.zeros(0)

    def steps_to_bar_line(self) -> int:
        """Steps from here to the next bar line (0 on a bar line)."""
        return -self.step % self.music.steps_per_bar

    def to_notes(self, values: np.ndarray, qpm: float) -> NoteSequence:
        return self.encoding.to_sequence(np.asarray(values), qpm, TIME_SIGNATURES)

    def values_of(self, notes: NoteSequence) -> np.ndarray:
        return self.encoding.values(notes)
