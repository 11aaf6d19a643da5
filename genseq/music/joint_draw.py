"""Drawing one step of a joint (NADE) head with controls its own sampler lacks: units given in advance
(a harmonizer's melody, genseq.music.harmonize) and epsilon truncation, as in epsilon sampling
(Hewitt et al. 2022, "Truncation sampling as language model desmoothing"): a unit whose conditional
probability of being on is under epsilon stays off (and one whose probability of staying off is under
epsilon turns on), at the draw's temperature. A smoothed model gives each of the 176 units of an
onset roll a small chance of turning on; together they add notes out of key and out of range.
With nothing clamped and epsilon 0 it is NADE.sample, draw for draw.
"""

from __future__ import annotations

import numpy as np
import torch


def draw_below(joint, outputs: torch.Tensor, clamped: int, fixed: np.ndarray, temperature: float,
               top_k: int | None, generator: torch.Generator, epsilon: float = 0.0) -> np.ndarray:
    """(B, K) draws of a NADE head whose first `clamped` units are given as `fixed` (K,): the hidden
    layer takes in the fixed units that are on, then the rest are drawn unit by unit as NADE.sample
    does (one jump per unit that turns on). top_k caps the units on (the clamped ones count); a unit
    whose probability of being on (or off) is under `epsilon` is not drawn so (epsilon sampling)."""
    temperature = max(float(temperature), 1e-4)
    visible_bias, hidden_bias = (part.float().cpu().numpy() for part in joint.split(outputs))
    uniforms = torch.rand(visible_bias.shape, generator=generator, device=outputs.device).cpu().numpy()
    W, V = joint.W.detach().float().cpu().numpy(), joint.V.detach().float().cpu().numpy()
    prefix_on = np.flatnonzero(fixed[:clamped])
    drawn = np.zeros(visible_bias.shape, dtype=np.float32)
    cap = top_k or joint.units
    with np.errstate(over="ignore"):
        for row in range(len(drawn)):
            drawn[row, prefix_on] = 1.0
            activation = hidden_bias[row] + W[prefix_on].sum(0)
            k, on_count = clamped, len(prefix_on)
            while k < joint.units and on_count < cap:
                hidden = 1.0 / (1.0 + np.exp(-activation))
                logits = (visible_bias[row, k:] + V[k:] @ hidden) / temperature
                odds = 1.0 + np.exp(-logits)  # 1 / P(on)
                on = ((uniforms[row, k:] * odds < 1.0) & (epsilon * odds <= 1.0)) | ((1.0 - epsilon) * odds < 1.0)
                if not on.any():
                    break
                k += int(on.argmax())
                drawn[row, k] = 1.0
                activation += W[k]
                k, on_count = k + 1, on_count + 1
    return drawn
