"""The prepared CPU step (genseq.model.fast_step) against the model's torch forward: outputs and state
agree to float32 rounding for every cell, layer count and input wiring, dense and sparse inputs."""

import numpy as np
import pytest
import torch

from genseq.core.config import ModelConfig
from genseq.core.options import SamplingOptions
from genseq.model import fast_step
from genseq.model.recurrent import StackedRecurrent
from genseq.model.sampler import Sampler

INPUTS, VALUES = 10, 7


def make_model(cell, layers, to_all):
    torch.manual_seed(3)
    config = ModelConfig(cell=cell, hidden_size=12, num_layers=layers, dropout=0.0, input_to_all_layers=to_all)
    return StackedRecurrent(config, INPUTS, VALUES).eval()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("to_all, layers", [(True, 3), (False, 2), (True, 1)])
def test_prepared_step_outputs_and_state_match_forward(cell, to_all, layers):
    model = make_model(cell, layers, to_all)
    inputs = torch.randn(2, 9, INPUTS)
    inputs[:, 4:] = (inputs[:, 4:] > 1.0).float()  # sparse steps take the row-sum path
    with torch.no_grad():
        expected, expected_state = model(inputs)
    sampler = Sampler(model, "categorical", SamplingOptions())
    for t in range(inputs.shape[1]):
        sampler.feed(inputs[:, t])
        assert np.allclose(sampler._step.outputs, expected[:, t].numpy(), atol=1e-5)
    for ours, theirs in zip(sampler.state, expected_state):
        for a, b in zip(*(((s,) if isinstance(s, torch.Tensor) else s) for s in (ours, theirs))):
            assert torch.allclose(a, b, atol=1e-5)


def test_only_float32_cpu_models_are_prepared():
    model = make_model("lstm", 2, True)
    assert fast_step.supports(model)
    assert not fast_step.supports(make_model("lstm", 2, True).double())


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_low_precision_step_is_near_the_float32_step(cell):
    """bfloat16 products: the outputs within bfloat16 rounding of the float32 step's, not equal to them."""
    model = make_model(cell, 2, True)
    inputs = torch.randn(3, 6, INPUTS)
    exact, low = (Sampler(model, "categorical", SamplingOptions(), low_precision=flag) for flag in (False, True))
    for t in range(inputs.shape[1]):
        exact.feed(inputs[:, t])
        low.feed(inputs[:, t])
        difference = np.abs(low._step.outputs - exact._step.outputs).max()
        assert 0 < difference < 0.05 * max(1.0, np.abs(exact._step.outputs).max())


def test_low_precision_same_seed_same_draws():
    model = make_model("lstm", 2, True)

    def drawn(seed):
        sampler = Sampler(model, "categorical", SamplingOptions(seed=seed, top_p=0.9), low_precision=True)
        values = []
        for _ in range(30):
            sampler.feed(torch.nn.functional.one_hot(values[-1] if values else torch.zeros(4, dtype=torch.long), INPUTS).float())
            values.append(sampler.draw())
        return torch.stack(values)

    assert torch.equal(drawn(3), drawn(3)) and not torch.equal(drawn(3), drawn(4))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_rows_split_among_threads_give_the_same_step(cell):
    model = make_model(cell, 2, True)
    inputs = torch.randn(7, 5, INPUTS)
    one, three = (Sampler(model, "categorical", SamplingOptions(seed=2), threads=n) for n in (1, 3))
    for t in range(inputs.shape[1]):
        one.feed(inputs[:, t])
        three.feed(inputs[:, t])
        assert np.allclose(one._step.outputs, three._step.outputs, atol=1e-6)
        assert torch.equal(one.draw(), three.draw())
    assert len(three._step._parts) == 3
