"""Sampling many dances at once, each continuing its own primer, for benchmarks and evaluation.

`genseq.motion.generate.continue_dance` samples several continuations of ONE primer; here row b of a
batch continues primer b (all primers of one length), one cell update per step for the whole batch.
Each step is drawn by the model's own head exactly as generation draws it (`heads.sample` with the
temperature, top_k and top_p of SamplingOptions; for the mixture head top_k keeps the k most
likely components and temperature scales their spread), so the measured motion is the motion
`genseq generate dance` makes with those options; only the random numbers differ, because the
batch shares one generator.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from genseq.model import heads


@torch.no_grad()
def sample_dances(model: torch.nn.Module, primers: np.ndarray, steps: int, known: torch.Tensor, temperature: float,
                  top_k: int | None = None, top_p: float | None = None, seed: int = 0,
                  progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """(B, steps, D) normalised values continuing each of the (B, T0, D) primer inputs; dimensions where
    `known` (D,) is 0 stay at the mean (0)."""
    device = next(model.parameters()).device
    model.eval()
    generator = torch.Generator(device=device).manual_seed(seed)
    inputs = torch.as_tensor(np.asarray(primers), dtype=torch.float32, device=device)
    known = known.to(device)
    value_size = inputs.shape[-1]
    outputs, state = model(inputs)
    values = []
    for index in range(steps):
        value = heads.sample("mdn", outputs[:, -1], temperature, top_k, top_p, generator, value_size) * known
        values.append(value)
        if progress:
            progress(index + 1)
        if index + 1 < steps:
            outputs, state = model(value.unsqueeze(1), state)
    return torch.stack(values, dim=1)
