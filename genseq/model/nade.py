"""A joint head over K binary units: NADE (Larochelle & Murray 2011) conditioned on the recurrent
state, as in RNN-NADE (Boulanger-Lewandowski et al. 2012).

Unit k (in index order) is on with probability sigmoid(b_v[k] + V[k] . h_k), where
h_k = sigmoid(b_h + sum_{j<k} v_j W[j]). The recurrent model gives the per-step biases
(b_v, b_h) as its outputs; W and V are shared by every step. The likelihood is exact and costs
O(K*H) per step (an exclusive cumulative sum over the units); sampling draws unit by unit,
jumping from one unit that turns on to the next.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class NADE(nn.Module):
    def __init__(self, units: int, hidden: int):
        super().__init__()
        self.units, self.hidden = units, hidden
        # W[k]: what unit k being on adds to the hidden layer; V[k]: how the hidden layer reads out unit k
        self.W = nn.Parameter(torch.randn(units, hidden) * 0.01)
        self.V = nn.Parameter(torch.randn(units, hidden) * 0.01)

    @property
    def bias_size(self) -> int:
        """How many per-step outputs the recurrent model gives: b_v (K) then b_h (H)."""
        return self.units + self.hidden

    def split(self, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return outputs[..., : self.units], outputs[..., self.units :]

    def logits(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Logit of each unit given the 0/1 units before it in `targets`: (..., K).

        The hidden layer changes only where a unit is on, so a step with M units on has M+1
        distinct hidden vectors: they are built from a cumulative sum over its on-units, read out
        for every unit in one matmul, and each unit picks the one of its segment. The same values
        as `logits_dense` at O((M+1)*K*H) in a few BLAS calls (about 15x faster on a CPU)."""
        visible_bias, hidden_bias = self.split(outputs)
        shape, units = visible_bias.shape, self.units
        targets, hidden_bias = targets.reshape(-1, units), hidden_bias.reshape(-1, self.hidden)
        segment = (targets.cumsum(-1) - targets).round().long()  # on-units before each unit
        most = int(targets.sum(-1).max().item()) if len(targets) else 0
        nth_on = F.one_hot(segment, most + 1)[..., :most].to(targets.dtype) * targets.unsqueeze(-1)  # (N, K, M)
        steps = nth_on.transpose(1, 2) @ self.W  # (N, M, H): W of the 1st, 2nd, ... unit on
        activations = hidden_bias.unsqueeze(1) + torch.cat([steps.new_zeros(len(steps), 1, steps.shape[2]), steps], 1).cumsum(1)
        readout = torch.sigmoid(activations) @ self.V.t()  # (N, M+1, K)
        return visible_bias + readout.gather(1, segment.unsqueeze(1)).squeeze(1).reshape(shape)

    def logits_dense(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The reference: one hidden vector per unit from an exclusive cumsum, O(K*H) per step."""
        visible_bias, hidden_bias = self.split(outputs)
        contributions = targets.unsqueeze(-1) * self.W  # (..., K, H)
        before = contributions.cumsum(-2) - contributions  # exclusive: units j < k only
        hidden = torch.sigmoid(hidden_bias.unsqueeze(-2) + before)
        return visible_bias + (hidden * self.V).sum(-1)

    def step_losses(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Exact negative log-likelihood (nats) of each step's K units: (B, T)."""
        return F.binary_cross_entropy_with_logits(self.logits(outputs, targets), targets, reduction="none").sum(-1)

    @torch.no_grad()
    def sample(
        self, outputs: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw one step (B, K) from (B, K+H) biases, unit by unit.

        temperature divides each unit's logit; top_k caps the units on in one step (once k are on,
        the rest stay off). The per-unit work is a few numpy operations on (B, H) arrays.
        """
        visible_bias, hidden_bias = (part.float().cpu().numpy() for part in self.split(outputs))
        uniforms = torch.rand(visible_bias.shape, generator=generator, device=outputs.device).cpu().numpy()
        drawn = self.draw(visible_bias, hidden_bias, uniforms, *self.numpy_weights(), temperature, top_k)
        return torch.from_numpy(drawn).to(outputs.device)

    def numpy_weights(self) -> tuple[np.ndarray, np.ndarray]:
        return self.W.detach().float().cpu().numpy(), self.V.detach().float().cpu().numpy()

    @classmethod
    def draw(cls, visible_bias: np.ndarray, hidden_bias: np.ndarray, uniforms: np.ndarray, W: np.ndarray, V: np.ndarray,
             temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
        """`sample` on numpy arrays: (B, K) biases, (B, H) hidden biases and (B, K) uniforms -> (B, K) float32."""
        temperature = max(float(temperature), 1e-4)
        drawn = np.zeros(visible_bias.shape, dtype=np.float32)
        cap = top_k if top_k else visible_bias.shape[-1]
        with np.errstate(over="ignore"):  # exp of a very negative logit: inf, then probability 0
            for row in range(len(drawn)):
                cls._draw_row(visible_bias[row], hidden_bias[row], uniforms[row], W, V, temperature, cap, drawn[row])
        return drawn

    @staticmethod
    def _draw_row(visible_bias, hidden_bias, uniforms, W, V, temperature, cap, drawn) -> None:
        """Exact sequential sampling, one jump per unit that turns on: while units stay off the
        hidden layer does not change, so the logits of all later units are computed at once and
        the next unit on is the first whose uniform falls under its probability."""
        activation, k, on_count = hidden_bias.copy(), 0, 0
        while k < len(drawn) and on_count < cap:
            hidden = 1.0 / (1.0 + np.exp(-activation))
            logits = (visible_bias[k:] + V[k:] @ hidden) / temperature
            on = uniforms[k:] * (1.0 + np.exp(-logits)) < 1.0  # u < sigmoid(logit)
            if not on.any():
                return
            k += int(on.argmax())
            drawn[k] = 1.0
            activation += W[k]
            k, on_count = k + 1, on_count + 1
