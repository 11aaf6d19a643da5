import itertools

import pytest
import torch

from genseq.core.config import ModelConfig
from genseq.core.errors import GenseqError
from genseq.model import heads
from genseq.model.nade import NADE
from genseq.model.recurrent import StackedRecurrent
from genseq.core.options import SamplingOptions
from genseq.model.sampler import Sampler, sample_continuations


def random_nade(units=5, hidden=7, seed=0) -> NADE:
    torch.manual_seed(seed)
    nade = NADE(units, hidden)
    torch.nn.init.normal_(nade.W, std=1.0)
    torch.nn.init.normal_(nade.V, std=1.0)
    return nade


def every_frame(units: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=units)))


def test_likelihood_is_exact_a_distribution_over_every_frame():
    nade = random_nade()
    outputs = torch.randn(1, 1, nade.bias_size).expand(32, 1, -1)
    log_p = -nade.step_losses(outputs, every_frame(5).unsqueeze(1))
    assert log_p.shape == (32, 1)
    assert torch.isclose(log_p.exp().sum(), torch.tensor(1.0), atol=1e-5)


def test_fast_logits_equal_the_dense_cumsum():
    nade = random_nade(units=88, hidden=16)
    outputs = torch.randn(3, 9, nade.bias_size)
    targets = (torch.rand(3, 9, 88) < 0.1).float()
    targets[0, 0] = 0.0  # a silent frame
    targets[1, 1] = 1.0  # every key on
    assert torch.allclose(nade.logits(outputs, targets), nade.logits_dense(outputs, targets), atol=1e-4)


def test_fast_logits_of_frames_all_silent_equal_the_dense_cumsum():
    nade = random_nade(units=12, hidden=5)
    outputs, silent = torch.randn(2, 3, nade.bias_size), torch.zeros(2, 3, 12)
    assert torch.allclose(nade.logits(outputs, silent), nade.logits_dense(outputs, silent), atol=1e-5)


def test_samples_follow_the_exact_distribution():
    nade = random_nade()
    outputs = torch.randn(1, nade.bias_size)
    drawn = nade.sample(outputs.expand(4000, -1), generator=torch.Generator().manual_seed(0))
    index = (drawn * torch.tensor([16.0, 8, 4, 2, 1])).sum(-1).long()
    empirical = torch.bincount(index, minlength=32).float() / len(index)
    exact = (-nade.step_losses(outputs.expand(32, -1), every_frame(5))).exp()
    assert (empirical - exact).abs().max() < 0.025


def test_temperature_scales_each_logit_and_top_k_caps_the_keys_on():
    nade = NADE(10, 4)  # W, V near zero: each key's probability is sigmoid(its visible bias)
    outputs = torch.cat([torch.full((1000, 10), 1.0), torch.zeros(1000, 4)], dim=1)
    cold = nade.sample(outputs, temperature=0.5, generator=torch.Generator().manual_seed(0)).mean()
    assert abs(cold - torch.sigmoid(torch.tensor(2.0))) < 0.02
    capped = nade.sample(outputs * 5, top_k=3, generator=torch.Generator().manual_seed(0))
    assert capped.sum(1).max() == 3


def nade_model(keys=6) -> StackedRecurrent:
    torch.manual_seed(0)
    return StackedRecurrent(ModelConfig(hidden_size=8, num_layers=2, dropout=0.0, head="nade", nade_hidden=5), keys + 2, keys, "bernoulli")


def test_the_model_owns_the_joint_head_and_samples_statefully():
    model = nade_model()
    outputs, _ = model(torch.randn(2, 3, 8))
    assert outputs.shape == (2, 3, 6 + 5) and model.joint is not None
    targets = (torch.rand(2, 3, 6) < 0.5).float()
    assert model.step_losses("bernoulli", outputs, targets).shape == (2, 3)
    as_input = lambda values, index: torch.cat([values, torch.zeros(len(values), 2)], dim=1)  # noqa: E731
    run = lambda seed: sample_continuations(Sampler(model, "bernoulli", SamplingOptions(seed=seed)),  # noqa: E731
                                            torch.zeros(1, 8).numpy(), as_input, 7, 3)
    first = run(1)
    assert first.shape == (3, 7, 6) and set(first.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(first, run(1)) and not torch.equal(first, run(2))


def test_a_joint_head_needs_binary_data():
    with pytest.raises(GenseqError, match="does not fit"):
        StackedRecurrent(ModelConfig(hidden_size=4, num_layers=1, head="nade"), 5, 5, "categorical")


def test_models_without_a_head_field_build_and_sample_as_before():
    """A config recorded before `head` existed builds the plain linear head: same state-dict keys."""
    old = {"cell": "lstm", "hidden_size": 8, "num_layers": 2, "dropout": 0.0, "input_to_all_layers": True}
    model = StackedRecurrent(ModelConfig.model_validate(old), 12, 10, "bernoulli")
    assert model.joint is None and set(model.state_dict()) == {k for k in model.state_dict() if not k.startswith("joint")}
    logits = torch.randn(4, 10)
    ours = model.sample_step("bernoulli", logits, 0.8, 3, None, torch.Generator().manual_seed(5))
    assert torch.equal(ours, heads.sample("bernoulli", logits, 0.8, 3, None, torch.Generator().manual_seed(5)))


def test_auto_conditioning_feeds_a_joint_head_its_visible_guess():
    from genseq.model.train import auto_conditioned_forward

    model = nade_model()
    outputs = auto_conditioned_forward(model, torch.randn(2, 7, 8), "bernoulli", 6, truth_steps=2, self_steps=1)
    assert outputs.shape == (2, 7, 6 + 5)
