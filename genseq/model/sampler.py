"""The one sampler: it holds the recurrent state and draws step after step, for every head.

Generation (music and dance), the music video, live play and endless streams all drive a Sampler:
`feed` advances the state by one or more input steps (a primer, a user's note, the last draw),
`draw` samples the next value from the last outputs. Each step costs one cell update and one draw,
and the state has a fixed size, so a stream of any length runs in constant memory.

On the CPU a single step runs through genseq.model.fast_step (numpy on buffers allocated once) and the
draws take their random numbers from a RandomStream prepared in chunks; a primer of several steps
still runs through the model's forward. Same seed, same random numbers as the torch path; the outputs
agree to float32 rounding (see fast_step), so the same draws except where rounding moves a boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from genseq.core.options import SamplingOptions
from genseq.core.resources import note_run_in_flight
from genseq.model import fast_step, heads
from genseq.model.recurrent import StackedRecurrent, State


@dataclass
class ActiveInputs:
    """A (B, F) input given by its ones: columns (B, n), every other entry 0 (one-hot events beside one-hot
    metric blocks). The prepared step sums n weight rows instead of multiplying a mostly-zero vector."""

    columns: np.ndarray

    def dense(self, size: int) -> torch.Tensor:
        columns = torch.as_tensor(np.asarray(self.columns, dtype=np.int64))
        return torch.zeros(len(columns), size).scatter_(1, columns, 1.0)


class RandomStream:
    """Random numbers of one kind drawn from a torch CPU generator in chunks and handed out in order.
    torch fills exponential_ and uniform_ element by element from the generator, so one chunk of n*m
    numbers is the same m draws of n a step would make (tests/model/test_sampler.py checks it)."""

    def __init__(self, generator: torch.Generator, kind: str, chunk: int = 1 << 14):
        self.generator, self.kind, self.chunk = generator, kind, chunk
        self.numbers, self.used = np.zeros(0, np.float32), 0

    def take(self, shape: tuple[int, int]) -> np.ndarray:
        start = self.used
        end = start + shape[0] * shape[1]
        if end > len(self.numbers):
            fresh = torch.empty(max(self.chunk, end - start))
            fresh = fresh.exponential_(1, generator=self.generator) if self.kind == "exponential" \
                else fresh.uniform_(generator=self.generator)
            self.numbers = np.concatenate([self.numbers[start:], fresh.numpy()])
            start, end = 0, end - start
        self.used = end
        return self.numbers[start:end].reshape(shape)


class NumpyExponentials:
    """Exp(1) numbers from numpy's generator seeded by `seed` (same seed, same numbers): a few times
    faster than torch's exponential_, which at batch 64 costs about 0.1 ms a step; other numbers than the
    torch stream's, so only where the draws are not held to the torch path (low_precision)."""

    def __init__(self, seed: int):
        self.generator = np.random.Generator(np.random.PCG64(seed))

    def take(self, shape: tuple[int, int]) -> np.ndarray:
        return self.generator.standard_exponential(shape, dtype=np.float32)


class Sampler:
    """Step-by-step sampling from a model of `head`, a batch of `batch` streams drawn from one generator
    seeded by options.seed (same seed, same values). value_size: one target value's size (mixture head).
    fast=False keeps every step on the model's torch forward (the reference the prepared step is held to).
    low_precision=True (opt-in, for batch throughput): the prepared step's matrix products in bfloat16 and
    a categorical head's race run on numpy's exponentials; same seed, same values still, but not the
    values of the float32 path (bench/step_speed.py measures that the samples' statistics stay the same).
    threads > 1 (opt-in): a prepared batch step's rows split among that many threads (fast_step.PreparedStep).
    On the prepared path the generator runs ahead of the draws (RandomStream's chunks): a caller drawing
    from sampler.generator itself gets other numbers than on the torch path, seeded all the same."""

    def __init__(self, model: StackedRecurrent, head: str, options: SamplingOptions, value_size: int | None = None,
                 fast: bool = True, low_precision: bool = False, threads: int = 1):
        self.model, self.head, self.options, self.value_size = model.eval(), head, options, value_size
        self.device = next(model.parameters()).device
        self.generator = torch.Generator(device=self.device).manual_seed(options.seed)
        self.fast = fast and fast_step.supports(model)
        self.low_precision, self.threads = low_precision and self.fast, threads
        self._parameters = list(model.parameters())
        self._state: State | None = None
        self._outputs: torch.Tensor | None = None  # (B, O): the last step's outputs on the torch path
        self._step: fast_step.PreparedStep | None = None
        self._stepped = False  # the state and outputs live in self._step
        self._versions = None
        self._stream = None
        kind = None if self.model.joint is None and head == "mdn" else (
            "exponential" if self.model.joint is None and head == "categorical" else "uniform")
        if self.fast and kind:
            self._stream = NumpyExponentials(options.seed) if self.low_precision and kind == "exponential" \
                else RandomStream(self.generator, kind)
        self._categorical: CategoricalDraw | None = None  # the draw of a categorical head without top-k

    @property
    def state(self) -> State | None:
        """The recurrent state (a copy when the prepared step holds it)."""
        return self._step.state() if self._stepped else self._state

    @property
    def outputs(self) -> torch.Tensor | None:
        """(B, O): the last step's outputs, what `draw` samples from (a copy when the prepared step holds them)."""
        return torch.from_numpy(self._step.outputs.copy()) if self._stepped else self._outputs

    def reset(self) -> None:
        """Forget everything fed so far (the generator goes on: a new phrase, not the same one again)."""
        self._state, self._outputs, self._stepped = None, None, False

    def feed(self, inputs: torch.Tensor | np.ndarray | ActiveInputs) -> None:
        """Advance the state by (B, T, F) or (B, F) input steps, or one step of ActiveInputs."""
        note_run_in_flight()
        if isinstance(inputs, ActiveInputs):
            if self.fast:
                self._prepared(len(inputs.columns)).project_active(np.asarray(inputs.columns))
                self._run_step()
                return
            inputs = inputs.dense(self.model.layers[0].input_size)
        if self.fast and (inputs.ndim == 2 or inputs.shape[1] == 1):
            array = inputs.detach().cpu().numpy() if isinstance(inputs, torch.Tensor) else inputs
            array = np.ascontiguousarray(array.reshape(array.shape[0], -1), dtype=np.float32)
            self._prepared(len(array)).project_dense(array)
            self._run_step()
            return
        self._forward(inputs)

    def _prepared(self, batch: int) -> fast_step.PreparedStep:
        """The prepared step for `batch` streams holding the current state (made again if the weights changed)."""
        versions = [p._version for p in self._parameters]
        if self._step is not None and (versions != self._versions or self._step.batch != batch):
            if self._stepped and self._step.batch != batch:
                raise ValueError(f"a batch of {batch} fed to a sampler holding the state of {self._step.batch}")
            self._state, self._stepped, self._step = self.state, False, None
        if self._step is None:
            self._step, self._versions = fast_step.PreparedStep(self.model, batch, self.low_precision, self.threads), versions
            if self.model.joint is not None:
                self._joint_weights = self.model.joint.numpy_weights()
            plain_categorical = self.head == "categorical" and self.model.joint is None
            options = self.options
            self._categorical = CategoricalDraw(batch, self._step.output_size, options.temperature, options.top_p) \
                if plain_categorical and not (options.top_k and options.top_k < self._step.output_size) else None
        if not self._stepped:
            self._step.load_state(self._state)
        return self._step

    def _run_step(self) -> None:
        self._step.run()
        self._stepped, self._state, self._outputs = True, None, None

    @torch.no_grad()
    def _forward(self, inputs) -> None:
        inputs = torch.as_tensor(inputs, dtype=torch.float32, device=self.device)
        if inputs.dim() == 2:
            inputs = inputs.unsqueeze(1)
        outputs, state = self.model(inputs, self.state)
        if self.fast:
            step = self._prepared(len(inputs))
            step.load_state(state)
            step.outputs[:] = outputs[:, -1].numpy()
            self._stepped, self._state, self._outputs = True, None, None
        else:
            self._state, self._outputs = state, outputs[:, -1]

    def draw(self) -> torch.Tensor:
        """One value per stream from the last outputs: class indices (B,), binary vectors (B, K) or values (B, D)."""
        if self._stepped:
            return self._draw_prepared(self._step.outputs)
        if self._outputs is None:
            raise RuntimeError("feed the sampler at least one input step before drawing")
        options = self.options
        with torch.no_grad():
            return self.model.sample_step(self.head, self._outputs, options.temperature, options.top_k, options.top_p,
                                          self.generator, self.value_size)

    def _draw_prepared(self, outputs: np.ndarray) -> torch.Tensor:
        options, joint = self.options, self.model.joint
        if self._categorical:
            return torch.from_numpy(self._categorical.draw(outputs, self._stream.take(outputs.shape)))
        if joint is not None:
            visible, hidden = outputs[:, :joint.units], outputs[:, joint.units:]
            uniforms = self._stream.take(visible.shape)
            return torch.from_numpy(joint.draw(visible, hidden, uniforms, *self._joint_weights, options.temperature,
                                               options.top_k))
        if self.head == "categorical":
            exponentials = self._stream.take(outputs.shape)
            drawn = heads.draw_categorical(outputs, options.temperature, options.top_k, options.top_p, exponentials)
            return torch.from_numpy(drawn.astype(np.int64))
        if self.head == "bernoulli":
            return torch.from_numpy(heads.draw_bernoulli(outputs, options.temperature, options.top_k,
                                                         self._stream.take(outputs.shape)))
        return heads.sample(self.head, torch.from_numpy(outputs.copy()), options.temperature, options.top_k,
                            options.top_p, self.generator, self.value_size)


class CategoricalDraw:
    """heads.draw_categorical without top-k, on buffers made once, with the same arithmetic (so the same
    classes for the same numbers): the exponential race's winner is drawn over all classes, and a row's
    nucleus (top-p) is built (heads.keep_nucleus_, as before) only where the winner is not the row's
    likeliest class, which is always in it (the largest ratio overall is the largest inside). One
    stream only asks whether its winner is in the nucleus; most steps of a trained model draw the likeliest."""

    def __init__(self, batch: int, classes: int, temperature: float, top_p: float | None):
        self.divisor = max(temperature, 1e-4)
        self.top_p = top_p if top_p is not None and top_p < 1.0 else None
        self.weights, self.ratios = np.empty((batch, classes), np.float32), np.empty((batch, classes), np.float32)
        self.rows = np.arange(batch)

    def draw(self, logits: np.ndarray, exponentials: np.ndarray) -> np.ndarray:
        """(B,) int64 classes from (B, C) logits and (B, C) Exp(1) numbers."""
        weights, ratios = self.weights, self.ratios
        if self.divisor == 1.0:  # x / 1 is x
            np.subtract(logits, logits.max(axis=1, keepdims=True), out=weights)
        else:
            np.divide(logits, self.divisor, out=weights)
            np.subtract(weights, weights.max(axis=1, keepdims=True), out=weights)
        np.exp(weights, out=weights)  # unnormalised probabilities, each row's likeliest exactly 1
        np.divide(weights, exponentials, out=ratios)
        winners = ratios.argmax(axis=1)
        if self.top_p is None:
            return winners
        if len(winners) == 1:
            winner = int(winners[0])
            if not (weights[0, winner] == 1.0 and winner == int(weights.argmax())) and not self.in_nucleus(winner):
                winners[0] = self.nucleus_winners(self.rows, exponentials)[0]
            return winners
        rest = np.flatnonzero((weights[self.rows, winners] != 1.0) | (winners != weights.argmax(axis=1)))
        if rest.size:
            winners[rest] = self.nucleus_winners(rest, exponentials)
        return winners

    def nucleus_winners(self, rows: np.ndarray, exponentials: np.ndarray) -> np.ndarray:
        """The race's winners of these rows within their nucleus."""
        weights = self.weights[rows]
        heads.keep_nucleus_(weights, self.top_p)
        weights /= exponentials[rows]
        return weights.argmax(axis=1)

    def in_nucleus(self, index: int) -> bool:
        """keep_nucleus_'s verdict on one class: the likeliest is kept; when the likeliest alone reaches top_p
        it is all that is kept; else a class is kept when the probability ranked before it (a stable sort,
        descending, summed in that order as its cumsum does) is below top_p."""
        row = self.weights[0]
        probs = row / np.add.reduce(row)
        best = int(probs.argmax())
        if index == best:
            return True
        if probs[best] >= self.top_p:
            return False
        own = probs[index]
        ahead = probs[probs > own]
        ties_before = probs[:index][probs[:index] == own]
        running = np.add.accumulate(np.concatenate([np.sort(ahead)[::-1], ties_before, [own]]))
        return bool(running[-1] - own < self.top_p)


def sample_continuations(sampler: Sampler, primer_inputs: np.ndarray, next_input: Callable[[torch.Tensor, int], torch.Tensor],
                         steps: int, num_outputs: int = 1, progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """`steps` values for each of `num_outputs` continuations of one (T0, F) primer, or of each row of a
    (B, T0, F) batch of primers. The primer's last row is the input of the first sampled step;
    next_input(values, index) gives the input after sampled step `index`: a (B, F) tensor or ActiveInputs.
    Returns (B, steps, ...)."""
    primer = torch.as_tensor(primer_inputs, dtype=torch.float32, device=sampler.device)
    if primer.dim() == 2:
        primer = primer.unsqueeze(0).expand(num_outputs, -1, -1).contiguous()
    sampler.feed(primer)
    values = []
    for index in range(steps):
        value = sampler.draw()
        values.append(value)
        if progress:
            progress(index + 1)
        if index + 1 < steps:
            sampler.feed(next_input(value, index))
    return torch.stack(values, dim=1)
