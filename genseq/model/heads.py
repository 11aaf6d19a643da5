"""Output heads: how raw model outputs become a loss, a sample and a point prediction.

- categorical: one class per step (melody events), softmax
- bernoulli: K independent binary units per step (piano-roll keys); `head: nade` in the model
  config models them jointly instead (genseq.model.nade, a module the model owns: see
  StackedRecurrent.step_losses / sample_step)
- mdn: a mixture of `components` diagonal Gaussians over D continuous values (dance poses;
  Graves 2013, chor-rnn), so sampling does not regress to the mean pose
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

LOG_SIGMA_MIN, LOG_SIGMA_MAX = -7.0, 3.0


def output_size(head: str, value_size: int, components: int = 1) -> int:
    if head == "mdn":
        return components * (1 + 2 * value_size)
    return value_size


def split_mdn(outputs: torch.Tensor, value_size: int):
    """(…, K(1+2D)) -> log mixture weights (…, K), means (…, K, D), log sigmas (…, K, D)."""
    components = outputs.shape[-1] // (1 + 2 * value_size)
    logits, rest = outputs[..., :components], outputs[..., components:]
    means, log_sigmas = rest.reshape(*rest.shape[:-1], components, 2 * value_size).split(value_size, dim=-1)
    return F.log_softmax(logits, dim=-1), means, log_sigmas.clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)


def step_losses(head: str, outputs: torch.Tensor, targets: torch.Tensor, target_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Negative log-likelihood (nats) of each step: (B, T). target_mask (B, T, D) leaves out missing
    values (mdn: a diagonal Gaussian marginalises them exactly by skipping their dimensions)."""
    if head == "categorical":
        flat = F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1), reduction="none")
        return flat.view(targets.shape)
    if head == "bernoulli":
        return F.binary_cross_entropy_with_logits(outputs, targets, reduction="none").sum(-1)
    if head == "mdn":
        log_weights, means, log_sigmas = split_mdn(outputs, targets.shape[-1])
        z = (targets.unsqueeze(-2) - means) * torch.exp(-log_sigmas)
        per_dim = -0.5 * z.square() - log_sigmas - 0.5 * math.log(2 * math.pi)
        if target_mask is not None:
            per_dim = per_dim * target_mask.unsqueeze(-2)
        return -torch.logsumexp(log_weights + per_dim.sum(-1), dim=-1)
    raise ValueError(f"unknown head {head!r}")


def point_prediction(head: str, outputs: torch.Tensor, value_size: int) -> torch.Tensor:
    """A deterministic prediction in target space (used to feed the model its own output)."""
    if head == "mdn":
        log_weights, means, _ = split_mdn(outputs, value_size)
        best = log_weights.argmax(-1, keepdim=True).unsqueeze(-1).expand(*means.shape[:-2], 1, value_size)
        return means.gather(-2, best).squeeze(-2)
    if head == "bernoulli":  # a joint (NADE) head's outputs start with the K visible biases
        return (outputs[..., :value_size] > 0).float()
    return F.one_hot(outputs.argmax(-1), outputs.shape[-1]).float()


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
    outputs: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    value_size: int | None = None,
) -> torch.Tensor:
    """Draw one step from (B, O) outputs: class indices (B,), binary vectors (B, K) or values (B, D).

    For the Bernoulli head, top_k caps how many units are on in one step (the most
    probable of those drawn) and top_p is ignored. For the mixture head, temperature
    sharpens the choice of component and scales its spread; top_k keeps the k most likely
    components and top_p the smallest set of components whose weight reaches top_p.
    """
    temperature = max(temperature, 1e-4)
    if head == "categorical":
        probs = torch.softmax(filter_logits(outputs / temperature, top_k, top_p), dim=-1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    if head == "bernoulli":
        probs = torch.sigmoid(outputs / temperature)
        drawn = (torch.rand(probs.shape, generator=generator, device=probs.device) < probs).float()
        if top_k:
            ranked = torch.where(drawn.bool(), probs, torch.zeros_like(probs))
            keep = torch.zeros_like(drawn).scatter(-1, torch.topk(ranked, min(top_k, probs.shape[-1]), dim=-1).indices, 1.0)
            drawn = drawn * keep
        return drawn
    if head == "mdn":
        log_weights, means, log_sigmas = split_mdn(outputs, value_size)
        weights = torch.softmax(filter_logits(log_weights / temperature, top_k, top_p), dim=-1)
        chosen = torch.multinomial(weights, 1, generator=generator)  # (B, 1)
        pick = chosen.unsqueeze(-1).expand(-1, 1, value_size)
        mean, log_sigma = means.gather(1, pick).squeeze(1), log_sigmas.gather(1, pick).squeeze(1)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device)
        return mean + noise * torch.exp(log_sigma) * temperature
    raise ValueError(f"unknown head {head!r}")


# -- the prepared step's draws: numpy on the step's (B, O) outputs, random numbers given ------------
# The same rules as `sample` above and the same random numbers (torch.multinomial draws one sample as
# argmax(probs / q), q ~ Exp(1) from the generator, which Sampler's RandomStream hands out in order), so a
# draw differs from `sample` only where float32 rounding of the probabilities moves a boundary.

def draw_categorical(logits: np.ndarray, temperature: float, top_k: int | None, top_p: float | None,
                     exponentials: np.ndarray) -> np.ndarray:
    """Class indices (B,) from (B, C) logits; exponentials: (B, C) Exp(1) numbers."""
    weights = logits / max(temperature, 1e-4)
    classes = weights.shape[-1]
    if top_k and top_k < classes:
        kth = np.partition(weights, classes - top_k, axis=-1)[:, classes - top_k:classes - top_k + 1]
        weights[weights < kth] = -np.inf
    weights -= np.maximum.reduce(weights, axis=-1, keepdims=True)
    np.exp(weights, out=weights)  # unnormalised probabilities: the draw below does not need their sum
    if top_p is not None and top_p < 1.0:
        keep_nucleus_(weights, top_p)
    weights /= exponentials
    return weights.argmax(axis=-1)


def keep_nucleus_(weights: np.ndarray, top_p: float) -> None:
    """Zero the classes outside the smallest set whose probability reaches top_p (as filter_logits).
    Where the most likely class alone reaches top_p (a confident step) that is the set, found without a sort."""
    probs = weights / np.add.reduce(weights, axis=-1, keepdims=True)
    if len(probs) == 1:
        row, best = probs[0], probs[0].argmax()
        if row[best] >= top_p:
            keep = weights[0, best]
            weights[:] = 0.0
            weights[0, best] = keep
            return
        order = np.argsort(-row, kind="stable")
        ranked = row[order]
        before = np.cumsum(ranked) - ranked
        weights[0, order[before >= top_p]] = 0.0
        return
    order = np.argsort(-probs, axis=-1, kind="stable")
    ranked = np.take_along_axis(probs, order, axis=-1)
    before = np.cumsum(ranked, axis=-1) - ranked
    drop = np.empty(weights.shape, dtype=bool)
    np.put_along_axis(drop, order, before >= top_p, axis=-1)
    weights[drop] = 0.0


def draw_bernoulli(outputs: np.ndarray, temperature: float, top_k: int | None, uniforms: np.ndarray) -> np.ndarray:
    """Binary vectors (B, K) float32 from (B, K) logits; uniforms: (B, K) U[0, 1) numbers."""
    probs = np.tanh(outputs * (0.5 / max(temperature, 1e-4)))  # sigmoid(x) = 0.5 + 0.5 tanh(x / 2): no overflow
    probs *= 0.5
    probs += 0.5
    drawn = uniforms < probs
    units = probs.shape[-1]
    if top_k and top_k < units:
        ranked = np.where(drawn, probs, 0.0)
        kept = np.argpartition(-ranked, top_k - 1, axis=-1)[:, :top_k]
        mask = np.zeros(drawn.shape, dtype=bool)
        np.put_along_axis(mask, kept, True, axis=-1)
        drawn &= mask
    return drawn.astype(np.float32)
