"""Output heads: how raw model outputs become a loss and a sample.

- categorical: one class per step (melody events), softmax
- bernoulli: K independent binary units per step (piano-roll keys)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def output_size(head: str, value_size: int) -> int:
    return value_size


def step_losses(head: str, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood (nats) of each step: (B, T)."""
    if head == "categorical":
        flat = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
        return flat.view(targets.shape)
    if head == "bernoulli":
        return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(-1)
    raise ValueError(f"unknown head {head!r}")


def filter_logits(logits: torch.Tensor, top_k: int | None, top_p: float | None) -> torch.Tensor:
    """Keep the top-k classes and the smallest set whose probability reaches top_p (nucleus)."""
    if top_k:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        drop_sorted = cumulative - torch.softmax(sorted_logits, dim=-1) >= top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def sample(
    head: str,
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw one step from (B, O) outputs: class indices (B,) or binary vectors (B, K).

    For the Bernoulli head, top_k caps how many units are on in one step (the most
    probable of those drawn) and top_p is ignored.
    """
    temperature = max(temperature, 1e-4)
    if head == "categorical":
        probs = torch.softmax(filter_logits(logits / temperature, top_k, top_p), dim=-1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    if head == "bernoulli":
        probs = torch.sigmoid(logits / temperature)
        drawn = (torch.rand(probs.shape, generator=generator, device=probs.device) < probs).float()
        if top_k:
            ranked = torch.where(drawn.bool(), probs, torch.zeros_like(probs))
            keep = torch.zeros_like(drawn).scatter(-1, torch.topk(ranked, min(top_k, probs.shape[-1]), dim=-1).indices, 1.0)
            drawn = drawn * keep
        return drawn
    raise ValueError(f"unknown head {head!r}")
