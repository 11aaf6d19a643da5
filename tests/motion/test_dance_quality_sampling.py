"""Batched dance sampling (genseq.motion.dance_sampling) draws as generation does, on a small untrained model."""

import numpy as np
import pytest
import torch

from genseq.core.config import ModelConfig
from genseq.model import heads
from genseq.model.recurrent import StackedRecurrent
from genseq.model.sample import SamplingOptions, sample_continuations
from genseq.motion.dance_sampling import sample_dances

D, K = 6, 3


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return StackedRecurrent(ModelConfig(hidden_size=16, num_layers=2, dropout=0.0), D, heads.output_size("mdn", D, K))


def primers(batch: int = 2, frames: int = 4) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(batch, frames, D)).astype(np.float32)


def test_same_seed_same_dances_and_another_seed_other_dances(model):
    first = sample_dances(model, primers(), 12, torch.ones(D), 1.0, seed=1)
    assert first.shape == (2, 12, D)
    torch.testing.assert_close(first, sample_dances(model, primers(), 12, torch.ones(D), 1.0, seed=1))
    assert not torch.allclose(first, sample_dances(model, primers(), 12, torch.ones(D), 1.0, seed=2))


@pytest.mark.parametrize("temperature,top_k", [(1.0, None), (0.3, 1), (0.5, 2)])
def test_one_primer_draws_exactly_what_generation_draws(model, temperature, top_k):
    known = torch.ones(D)
    ours = sample_dances(model, primers(1), 10, known, temperature, top_k, seed=4)
    theirs = sample_continuations(model, "mdn", primers(1)[0], lambda values, index: values * known, 10, 1,
                                  SamplingOptions(temperature=temperature, top_k=top_k, seed=4), None, D)
    torch.testing.assert_close(ours, theirs)


def test_rows_continue_their_own_primers(model):
    both = sample_dances(model, primers(2), 8, torch.ones(D), 0.0, top_k=1)  # greedy: 1e-4 of the spread is left
    second = sample_dances(model, primers(2)[1:], 8, torch.ones(D), 0.0, top_k=1, seed=5)
    torch.testing.assert_close(both[1:], second, atol=1e-2, rtol=0)
    assert not torch.allclose(both[0], second[0], atol=1e-2)


def test_unknown_dimensions_stay_at_the_mean(model):
    known = torch.ones(D)
    known[2] = 0.0
    assert torch.all(sample_dances(model, primers(), 8, known, 1.0, seed=3)[..., 2] == 0.0)
