"""Stateful step-by-step sampling: the primer runs once, then each step costs one cell update."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from genseq.model.recurrent import StackedRecurrent


@dataclass
class SamplingOptions:
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 0


@torch.no_grad()
def sample_continuations(
    model: StackedRecurrent,
    head: str,
    primer_inputs: np.ndarray,
    next_input: Callable[[torch.Tensor, int], torch.Tensor],
    steps: int,
    num_outputs: int,
    options: SamplingOptions,
    progress: Callable[[int], None] | None = None,
    value_size: int | None = None,
) -> torch.Tensor:
    """Sample `steps` values for each of `num_outputs` continuations of one primer.

    primer_inputs: (T0, F) model inputs of the primer, T0 >= 1; its last row is the input
    of the first sampled step. next_input(values (B, ...), index) gives the (B, F) input
    after sampled step `index`. Returns the sampled values, (B, steps, ...).
    """
    device = next(model.parameters()).device
    model.eval()
    generator = torch.Generator(device=device).manual_seed(options.seed)
    primer = torch.as_tensor(primer_inputs, dtype=torch.float32, device=device)
    outputs, state = model(primer.unsqueeze(0).expand(num_outputs, -1, -1).contiguous())
    logits = outputs[:, -1]
    values = []
    for index in range(steps):
        value = model.sample_step(head, logits, options.temperature, options.top_k, options.top_p, generator, value_size)
        values.append(value)
        if progress:
            progress(index + 1)
        if index + 1 < steps:
            outputs, state = model(next_input(value, index).unsqueeze(1), state)
            logits = outputs[:, -1]
    return torch.stack(values, dim=1)
