"""Dance sampling controls beyond the one sampler's temperature (issue 20), measured in
bench/dance_quality.py: the sampler (genseq.model.sampler) runs the model step by step; the
mixture draw of each frame is made here from its outputs.

- component_temperature: flattens (> 1) or sharpens the choice of mixture component, apart from
  `spread`, which scales the chosen component's standard deviation (the sampler's temperature is
  both at once);
- dance_bias: a per-dance latent of the sampler: each dance draws once a fixed random offset of
  the component logits (N(0, dance_bias^2) per component), so one dance keeps favouring some
  components (movement modes) and another others, all through the dance;
- temperature_spread: a per-dance energy: each dance's component temperature is the setting's times
  exp(N(0, temperature_spread^2)), drawn once (a flatter choice of component moves more);
- drift_bias, drift_seconds: a latent that wanders: an offset of the component logits that drifts
  (an Ornstein-Uhlenbeck process of sd drift_bias and correlation time drift_seconds), so a dance
  moves from one mode to another over seconds (bursts and pauses), added to the dance's own;
- feed: what the model is given back: `sample` (the drawn frame, as generation always did) or
  `mean` (the chosen component's mean, the kind of input auto-conditioned training feeds back,
  heads.point_prediction; the drawn frame is still what the dance shows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from genseq.model.heads import filter_logits, split_mdn


@dataclass(frozen=True)
class MixtureDraw:
    component_temperature: float = 1.0
    spread: float = 1.0
    dance_bias: float = 0.0
    temperature_spread: float = 0.0
    drift_bias: float = 0.0
    drift_seconds: float = 2.0
    feed: str = "sample"  # or "mean"

    @classmethod
    def from_temperature(cls, temperature: float, **changes) -> "MixtureDraw":
        """The sampler's own draw at `temperature` (component choice and spread alike), then `changes`."""
        return cls(**{"component_temperature": temperature, "spread": temperature, **changes})


def draw_frames(outputs: torch.Tensor, value_size: int, draw: MixtureDraw, bias: torch.Tensor,
                generator: torch.Generator, top_k: int | None = None, top_p: float | None = None,
                temperature: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(drawn values, the chosen components' means), each (B, D), from (B, O) mixture outputs, the
    components cut to top_k and top_p as heads.sample cuts them; temperature: (B, 1) each row's
    component temperature (default: the draw's)."""
    log_weights, means, log_sigmas = split_mdn(outputs, value_size)
    if temperature is None:
        temperature = torch.tensor(draw.component_temperature)
    logits = filter_logits((log_weights + bias) / temperature.clamp(min=1e-4), top_k, top_p)
    chosen = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)
    pick = chosen.unsqueeze(-1).expand(-1, 1, value_size)
    mean, log_sigma = means.gather(1, pick).squeeze(1), log_sigmas.gather(1, pick).squeeze(1)
    noise = torch.randn(mean.shape, generator=generator)
    return mean + noise * torch.exp(log_sigma) * draw.spread, mean


def sample_frames(sampler, primer: torch.Tensor, next_input: Callable[[torch.Tensor], torch.Tensor], steps: int,
                  draw: MixtureDraw, fps: float, top_k: int | None = None,
                  progress: Callable[[int], None] | None = None, top_p: float | None = None) -> torch.Tensor:
    """(B, steps, D) frames continuing each row of a (B, T0, F) primer batch, drawn by `draw` from
    `sampler`'s outputs (its generator seeds the draws)."""
    sampler.feed(primer)
    value_size, rows = sampler.value_size, len(primer)
    components = sampler.outputs.shape[-1] // (1 + 2 * value_size)
    generator = sampler.generator
    bias = torch.randn((rows, components), generator=generator) * draw.dance_bias
    keep = float(np.exp(-1.0 / max(draw.drift_seconds * fps, 1e-6)))
    drift = torch.randn((rows, components), generator=generator) * draw.drift_bias
    temperature = draw.component_temperature * torch.exp(torch.randn((rows, 1), generator=generator)
                                                        * draw.temperature_spread)
    frames = []
    for index in range(steps):
        if draw.drift_bias:
            drift = keep * drift + np.sqrt(1 - keep * keep) * draw.drift_bias * torch.randn(drift.shape, generator=generator)
        value, mean = draw_frames(sampler.outputs.float(), value_size, draw, bias + drift, generator, top_k,
                                  top_p, temperature)
        frames.append(value)
        if progress:
            progress(index + 1)
        if index + 1 < steps:
            sampler.feed(next_input(mean if draw.feed == "mean" else value))
    return torch.stack(frames, dim=1)
