"""The dance mixture draw's controls (genseq.motion.mixture_draw) on hand-made mixture outputs."""

from __future__ import annotations

import numpy as np
import torch

from genseq.motion.mixture_draw import MixtureDraw, draw_frames

D, K = 2, 3


def outputs(rows: int) -> torch.Tensor:
    """Three components: weights 0.7 / 0.2 / 0.1, means 0, 10, 20 in every dimension, sigma 1."""
    logits = torch.log(torch.tensor([0.7, 0.2, 0.1]))
    means = torch.tensor([0.0, 10.0, 20.0])[:, None].expand(K, D)
    log_sigmas = torch.zeros(K, D)
    rest = torch.cat([means, log_sigmas], dim=-1).reshape(-1)
    return torch.cat([logits, rest])[None].expand(rows, -1).clone()


def components_chosen(draw: MixtureDraw, bias: torch.Tensor, rows: int = 4000, seed: int = 0) -> np.ndarray:
    _, mean = draw_frames(outputs(rows), D, draw, bias, torch.Generator().manual_seed(seed))
    return (mean[:, 0] / 10).round().long().numpy()


def test_the_plain_draw_follows_the_weights_and_the_spread_scales_the_noise():
    chosen = components_chosen(MixtureDraw(), torch.zeros(4000, K))
    assert np.allclose(np.bincount(chosen, minlength=K) / 4000, [0.7, 0.2, 0.1], atol=0.03)
    values, mean = draw_frames(outputs(4000), D, MixtureDraw(spread=0.5), torch.zeros(4000, K),
                               torch.Generator().manual_seed(1))
    assert abs(float((values - mean).std()) - 0.5) < 0.03


def test_component_temperature_flattens_the_choice_without_the_spread():
    flat = np.bincount(components_chosen(MixtureDraw(component_temperature=100.0), torch.zeros(4000, K)), minlength=K)
    assert np.allclose(flat / 4000, [1 / 3] * 3, atol=0.04)
    sharp = components_chosen(MixtureDraw(component_temperature=0.01), torch.zeros(4000, K))
    assert (sharp == 0).all()


def test_a_dance_bias_moves_each_dance_to_its_own_components():
    bias = torch.tensor([[0.0, 5.0, 0.0]]).expand(4000, K)
    chosen = components_chosen(MixtureDraw(dance_bias=1.0), bias)
    assert (chosen == 1).mean() > 0.9


def test_top_p_cuts_the_components_to_their_nucleus():
    _, mean = draw_frames(outputs(4000), D, MixtureDraw(), torch.zeros(4000, K), torch.Generator().manual_seed(2),
                          top_p=0.8)
    chosen = (mean[:, 0] / 10).round().long().numpy()
    assert set(chosen) == {0, 1}  # 0.7 + 0.2 reach 0.8; the 0.1 component is cut
    assert abs(float((chosen == 0).mean()) - 0.7 / 0.9) < 0.03
