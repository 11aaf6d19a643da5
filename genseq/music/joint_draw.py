"""Drawing one step of a joint (NADE) head with controls its own sampler lacks: units given in advance
(a harmonizer's melody, genseq.music.harmonize) and epsilon truncation, as in epsilon sampling
(Hewitt et al. 2022, "Truncation sampling as language model desmoothing"): a unit whose conditional
probability of being on is under epsilon stays off, at the draw's temperature; and nucleus (top_p)
sampling of each jump (jump_nucleus). A smoothed model gives each of the 176 units of an
onset roll a small chance of turning on; together they add notes out of key and out of range.
With nothing clamped and epsilon 0 it is NADE.sample, draw for draw.
"""

from __future__ import annotations

import numpy as np
import torch


def draw_below(joint, outputs: torch.Tensor, clamped: int, fixed: np.ndarray, temperature: float,
               top_k: int | None, generator: torch.Generator, epsilon: float = 0.0, top_p: float | None = None) -> np.ndarray:
    """(B, K) draws of a NADE head whose first `clamped` units are given as `fixed` (K,): the hidden
    layer takes in the fixed units that are on, then the rest are drawn unit by unit as NADE.sample
    does (one jump per unit that turns on). top_k caps the units on (the clamped ones count); a unit
    whose probability of being on is under `epsilon` stays off (epsilon sampling); top_p draws each
    jump from its nucleus (jump_nucleus)."""
    temperature = max(float(temperature), 1e-4)
    visible_bias, hidden_bias = (part.float().cpu().numpy() for part in joint.split(outputs))
    uniforms = torch.rand(visible_bias.shape, generator=generator, device=outputs.device).cpu().numpy()
    W, V = joint.W.detach().float().cpu().numpy(), joint.V.detach().float().cpu().numpy()
    prefix_on = np.flatnonzero(fixed[:clamped])
    drawn = np.zeros(visible_bias.shape, dtype=np.float32)
    cap = top_k or joint.units
    nucleus = top_p is not None and top_p < 1.0
    with np.errstate(over="ignore", divide="ignore"):
        for row in range(len(drawn)):
            drawn[row, prefix_on] = 1.0
            activation = hidden_bias[row] + W[prefix_on].sum(0)
            k, on_count = clamped, len(prefix_on)
            while k < joint.units and on_count < cap:
                hidden = 1.0 / (1.0 + np.exp(-activation))
                logits = (visible_bias[row, k:] + V[k:] @ hidden) / temperature
                if nucleus:  # one uniform a jump (the row's k-th), from the jump's nucleus
                    jump = jump_nucleus(logits, top_p, epsilon, uniforms[row, on_count])
                else:
                    odds = 1.0 + np.exp(-logits)  # 1 / P(on)
                    on = (uniforms[row, k:] * odds < 1.0) & (epsilon * odds <= 1.0)
                    jump = int(on.argmax()) if on.any() else None
                if jump is None:
                    break
                k += jump
                drawn[row, k] = 1.0
                activation += W[k]
                k, on_count = k + 1, on_count + 1
    return drawn


def jump_nucleus(logits: np.ndarray, top_p: float, epsilon: float, uniform: float) -> int | None:
    """Which of the remaining units turns on next (its offset), or None for none: drawn from the jump's
    exact distribution (unit j first on: p_j times every unit before it off; none: all off) cut to its
    nucleus (the likeliest outcomes reaching top_p; outcomes under epsilon dropped too) and renormalised.
    The categorical of a jump is what a melody's next event is to nucleus sampling, so top_p keeps its
    meaning for the joint head (a unit at a time, nothing would ever be cut)."""
    log_on, log_off = -np.logaddexp(0.0, -logits), -np.logaddexp(0.0, logits)
    before = np.concatenate([[0.0], np.cumsum(log_off)])  # log P(all units before j off); last: none on
    probabilities = np.exp(np.concatenate([log_on + before[:-1], before[-1:]]))
    probabilities /= probabilities.sum()
    order = np.argsort(-probabilities, kind="stable")
    ranked = probabilities[order]
    keep = max(1, int(np.searchsorted(np.cumsum(ranked), top_p) + 1))
    kept = order[:keep][ranked[:keep] >= epsilon] if epsilon else order[:keep]
    kept = kept if len(kept) else order[:1]
    weights = probabilities[kept] / probabilities[kept].sum()
    choice = kept[min(int(np.searchsorted(np.cumsum(weights), uniform, side="right")), len(kept) - 1)]
    return None if choice == len(logits) else int(choice)
