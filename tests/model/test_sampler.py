"""The Sampler's prepared CPU step against the pre-change path (the model's torch forward and
StackedRecurrent.sample_step with one torch generator, as genseq sampled before): same seed, same draws."""

import numpy as np
import pytest
import torch

from genseq.core.config import ModelConfig
from genseq.core.options import SamplingOptions
from genseq.model.recurrent import StackedRecurrent
from genseq.model.sampler import ActiveInputs, RandomStream, Sampler, sample_continuations

INPUTS, VALUES, EXTRA = 10, 7, 3  # a value one-hot (or binary units) beside 3 constant features


def reference_continuations(model, head, primer, next_input, steps, batch, options, value_size=None):
    """The sampling loop before the Sampler: forward for each step, sample_step for each draw."""
    generator = torch.Generator().manual_seed(options.seed)
    with torch.no_grad():
        outputs, state = model(torch.as_tensor(primer).unsqueeze(0).expand(batch, -1, -1).contiguous())
        values = []
        for index in range(steps):
            value = model.sample_step(head, outputs[:, -1], options.temperature, options.top_k, options.top_p,
                                      generator, value_size)
            values.append(value)
            outputs, state = model(next_input(value, index).unsqueeze(1), state)
    return torch.stack(values, dim=1)


def make_model(head, cell="lstm", layers=2, to_all=True):
    torch.manual_seed(3)
    outputs = {"categorical": VALUES, "bernoulli": VALUES, "nade": VALUES, "mdn": 2 * (1 + 2 * 4)}[head]
    config = ModelConfig(cell=cell, hidden_size=12, num_layers=layers, dropout=0.0, input_to_all_layers=to_all,
                         head="nade" if head == "nade" else "default", nade_hidden=6)
    model = StackedRecurrent(config, INPUTS if head != "mdn" else 4, outputs, "bernoulli" if head == "nade" else None)
    with torch.no_grad():  # sharper outputs than the initial weights give, so the draws depend on the logits
        model.head.weight.mul_(4.0)
    return model.eval()


def next_input_of(head):
    extra = torch.tensor([1.0, 0.0, 1.0])
    if head == "categorical":
        return lambda value, index: torch.cat([torch.nn.functional.one_hot(value, VALUES).float(),
                                               extra.expand(len(value), -1)], dim=1)
    if head == "mdn":
        return lambda value, index: value
    return lambda value, index: torch.cat([value, extra.expand(len(value), -1)], dim=1)


CASES = [("categorical", {}), ("categorical", {"top_p": 0.8}), ("categorical", {"top_k": 3, "temperature": 0.7}),
         ("bernoulli", {}), ("bernoulli", {"top_k": 2, "temperature": 1.3}), ("nade", {}), ("nade", {"top_k": 2})]


@pytest.mark.parametrize("head, sampling", CASES)
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("batch", [1, 3])
def test_same_seed_same_draws_as_the_torch_path(head, sampling, cell, batch):
    model = make_model(head, cell)
    options = SamplingOptions(seed=11, **sampling)
    primer = np.eye(INPUTS, dtype=np.float32)[[7, 2, 0, 1]]
    data_head = "bernoulli" if head == "nade" else head
    expected = reference_continuations(model, data_head, primer, next_input_of(head), 60, batch, options)
    got = sample_continuations(Sampler(model, data_head, options), primer, next_input_of(head), 60, batch)
    assert got.dtype == expected.dtype and torch.equal(got, expected)


def test_mixture_values_agree_to_rounding():
    model = make_model("mdn")
    options = SamplingOptions(seed=5, temperature=0.8)
    primer = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    expected = reference_continuations(model, "mdn", primer, next_input_of("mdn"), 20, 2, options, value_size=4)
    got = sample_continuations(Sampler(model, "mdn", options, value_size=4), primer, next_input_of("mdn"), 20, 2)
    # an untrained model feeds its draws back and they grow, and with them the sums' rounding (relative, not absolute)
    assert torch.allclose(got, expected, rtol=5e-3, atol=1e-4)  # another draw would differ by whole units


def test_active_inputs_equal_their_dense_inputs():
    model = make_model("categorical")
    columns = np.array([[2, 8], [0, 9]])
    dense, active = Sampler(model, "categorical", SamplingOptions()), Sampler(model, "categorical", SamplingOptions())
    dense.feed(ActiveInputs(columns).dense(INPUTS))
    active.feed(ActiveInputs(columns))
    assert np.allclose(dense._step.outputs, active._step.outputs, atol=1e-6)
    slow = Sampler(model, "categorical", SamplingOptions(), fast=False)
    slow.feed(ActiveInputs(columns))
    assert np.allclose(slow.outputs.numpy(), active._step.outputs, atol=1e-5)


@pytest.mark.parametrize("threads", [1, 2])
def test_random_stream_hands_out_what_per_step_draws_would(threads):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for kind in ("exponential", "uniform"):
            stream = RandomStream(torch.Generator().manual_seed(4), kind, chunk=100)
            generator = torch.Generator().manual_seed(4)
            for shape in [(1, 63), (3, 7), (64, 63), (2, 88)] * 5:
                fresh = torch.empty(shape)
                expected = fresh.exponential_(1, generator=generator) if kind == "exponential" else fresh.uniform_(generator=generator)
                assert np.array_equal(stream.take(shape), expected.numpy())
    finally:
        torch.set_num_threads(before)


def test_weights_changed_after_the_first_step_are_used():
    model = make_model("categorical")
    sampler = Sampler(model, "categorical", SamplingOptions())
    step = torch.eye(INPUTS)[:1]
    sampler.feed(step)
    with torch.no_grad():
        model.head.bias.add_(100.0 * torch.eye(VALUES)[4])
    sampler.feed(step)
    assert sampler.draw().tolist() == [4]


def test_a_different_batch_cannot_continue_a_state():
    sampler = Sampler(make_model("categorical"), "categorical", SamplingOptions())
    sampler.feed(torch.eye(INPUTS)[:2])
    with pytest.raises(ValueError, match="batch of 3"):
        sampler.feed(torch.eye(INPUTS)[:3])
    sampler.reset()
    sampler.feed(torch.eye(INPUTS)[:3])
    assert sampler.draw().shape == (3,)


@pytest.mark.parametrize("temperature, top_p", [(1.0, None), (1.0, 0.95), (0.7, 0.8), (1.3, 0.5)])
@pytest.mark.parametrize("batch", [1, 5])
def test_categorical_draw_is_draw_categorical(temperature, top_p, batch):
    """The prepared draw (the nucleus built only where the race's winner is not the likeliest class)
    against heads.draw_categorical (the nucleus built first): the same classes for the same logits and
    exponentials, sharp and flat rows."""
    from genseq.model import heads
    from genseq.model.sampler import CategoricalDraw

    rng = np.random.default_rng(7)
    draw = CategoricalDraw(batch, VALUES * 9, temperature, top_p)
    outside = 0
    for scale in (0.3, 2.0, 6.0):
        for _ in range(300 // batch):
            logits = (rng.normal(size=(batch, VALUES * 9)) * scale).astype(np.float32)
            exponentials = rng.exponential(size=(batch, VALUES * 9)).astype(np.float32)
            expected = heads.draw_categorical(logits.copy(), temperature, None, top_p, exponentials)
            weighted = logits / temperature
            ratios = np.exp(weighted - weighted.max(axis=1, keepdims=True)) / exponentials
            outside += int((ratios.argmax(axis=1) != expected).sum())  # race winners outside the nucleus
            assert np.array_equal(draw.draw(logits, exponentials), expected)
    assert top_p is None or outside > 0  # the path that builds the nucleus ran too
