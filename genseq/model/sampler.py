"""The one sampler: it holds the recurrent state and draws step after step, for every head.

Generation (music and dance), the music video, live play and endless streams all drive a Sampler:
`feed` advances the state by one or more input steps (a primer, a user's note, the last draw),
`draw` samples the next value from the last outputs. Each step costs one cell update and one draw,
and the state has a fixed size, so a stream of any length runs in constant memory.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from genseq.core.options import SamplingOptions
from genseq.model.recurrent import StackedRecurrent, State


class Sampler:
    """Step-by-step sampling from a model of `head`, a batch of `batch` streams drawn from one generator
    seeded by options.seed (same seed, same values). value_size: one target value's size (mixture head)."""

    def __init__(self, model: StackedRecurrent, head: str, options: SamplingOptions, value_size: int | None = None):
        self.model, self.head, self.options, self.value_size = model.eval(), head, options, value_size
        self.device = next(model.parameters()).device
        self.generator = torch.Generator(device=self.device).manual_seed(options.seed)
        self.state: State | None = None
        self.outputs: torch.Tensor | None = None  # (B, O): the last step's outputs, what `draw` samples from

    def reset(self) -> None:
        """Forget everything fed so far (the generator goes on: a new phrase, not the same one again)."""
        self.state, self.outputs = None, None

    @torch.no_grad()
    def feed(self, inputs: torch.Tensor | np.ndarray) -> None:
        """Advance the state by (B, T, F) or (B, F) input steps."""
        inputs = torch.as_tensor(inputs, dtype=torch.float32, device=self.device)
        if inputs.dim() == 2:
            inputs = inputs.unsqueeze(1)
        outputs, self.state = self.model(inputs, self.state)
        self.outputs = outputs[:, -1]

    @torch.no_grad()
    def draw(self) -> torch.Tensor:
        """One value per stream from the last outputs: class indices (B,), binary vectors (B, K) or values (B, D)."""
        if self.outputs is None:
            raise RuntimeError("feed the sampler at least one input step before drawing")
        options = self.options
        return self.model.sample_step(self.head, self.outputs, options.temperature, options.top_k, options.top_p,
                                      self.generator, self.value_size)


def sample_continuations(sampler: Sampler, primer_inputs: np.ndarray, next_input: Callable[[torch.Tensor, int], torch.Tensor],
                         steps: int, num_outputs: int = 1, progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """`steps` values for each of `num_outputs` continuations of one (T0, F) primer, or of each row of a
    (B, T0, F) batch of primers. The primer's last row is the input of the first sampled step;
    next_input(values, index) gives the (B, F) input after sampled step `index`. Returns (B, steps, ...)."""
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
