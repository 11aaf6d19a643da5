import numpy as np
import torch

from genseq.core.config import ModelConfig
from genseq.core.notes import NoteSequence
from genseq.core.options import SamplingOptions
from genseq.model.recurrent import StackedRecurrent
from genseq.model.sampler import Sampler, sample_continuations
from genseq.music.encode import MelodyEncoding, OnsetRollEncoding
from genseq.music.generate import fed_inputs, primer_value_vectors
from genseq.music.long_form import PieceControls, joint_score, sample_long_form

ENCODING = OnsetRollEncoding(4)


def tiny_model(seed=0):
    torch.manual_seed(seed)
    model = StackedRecurrent(ModelConfig(hidden_size=16, num_layers=1, head="nade", nade_hidden=8),
                             ENCODING.input_size, ENCODING.value_size, "bernoulli")
    with torch.no_grad():  # a few keys on a step
        model.head.bias[: ENCODING.value_size] -= 3.0
    return model.eval()


def run(model, controls, steps=40, outputs=2, score=None, seed=3, feeds=None):
    inputs, metric_rows = fed_inputs(ENCODING, ENCODING.value_vectors(ENCODING.silence()), -1, [(0, 4, 4)], steps)
    metric = torch.from_numpy(metric_rows)

    def next_input(values, index):
        return torch.cat([ENCODING.value_vectors_torch(values), metric[index + 2].expand(len(values), -1)], dim=-1)

    sampler = Sampler(model, "bernoulli", SamplingOptions(temperature=1.0, seed=seed))
    if feeds is not None:  # count what the state holds between resets
        feed, reset = sampler.feed, sampler.reset

        def counted_feed(rows):
            feeds[-1] += 1 if rows.ndim == 2 else rows.shape[1]
            feed(rows)

        def counted_reset():
            feeds.append(0)
            reset()

        sampler.feed, sampler.reset = counted_feed, counted_reset
    if controls is None:
        return sample_continuations(sampler, inputs, next_input, steps, outputs).numpy()
    bar_starts = np.arange(steps) % 16 == 0  # sampled step i is step i of the piece: bars start at 16, 32 ...
    return sample_long_form(sampler, inputs, next_input, steps, outputs, controls, bar_starts, score).numpy()


def test_without_controls_it_is_the_samplers_own_loop():
    model = tiny_model()
    assert np.array_equal(run(model, PieceControls()), run(model, None))
    assert np.array_equal(run(model, PieceControls(window=100)), run(model, None))  # a window never reached


def test_the_state_never_holds_more_than_its_window():
    model, feeds = tiny_model(), [0]
    pieces = run(model, PieceControls(window=12, keep=4), steps=50, feeds=feeds)
    assert pieces.shape == (2, 50, ENCODING.value_size)
    assert len(feeds) > 3 and max(feeds) <= 12 and all(count >= 4 for count in feeds[1:])


def test_candidates_keep_the_bars_the_score_prefers():
    model = tiny_model(1)
    busiest = lambda outputs, drawn: drawn.sum(-1).numpy()  # noqa: E731  a score that likes many keys on
    chosen = run(model, PieceControls(candidates=8), steps=96, outputs=8, score=busiest)
    plain = run(model, PieceControls(), steps=96, outputs=8)
    assert chosen.shape == plain.shape == (8, 96, ENCODING.value_size)
    assert chosen[:, :80].sum() > 1.05 * plain[:, :80].sum()  # 5 bars chosen (the last, partial one by its steps so far)
    likelier = run(model, PieceControls(candidates=3), steps=40, outputs=2, score=joint_score(model))
    assert likelier.shape == (2, 40, ENCODING.value_size)


def test_a_primer_is_fed_as_the_model_was_trained_start_row_first():
    piece = NoteSequence([[60, 80, 0, 4, 0], [64, 80, 2, 8, 0], [67, 80, 8, 9, 0]], 4, 120.0, [(0, 3, 4)], 12, "p")
    for encoding in (ENCODING, MelodyEncoding(4)):
        values = encoding.values(piece)
        vectors, first_step = primer_value_vectors(encoding, values)
        inputs, _ = fed_inputs(encoding, vectors, first_step, piece.time_signatures, 4)
        trained = encoding.encode(piece).inputs  # START row, then the values before each predicted step
        assert first_step == -1 and np.array_equal(inputs[:-1], trained)
        without, step = primer_value_vectors(encoding, values, lead_in=False)
        assert step == 0 and len(without) == len(values)


def test_the_likelihood_score_takes_silent_steps():
    model = tiny_model()
    outputs = torch.randn(3, model.joint.bias_size)
    silent = torch.zeros(3, ENCODING.value_size)
    scores = joint_score(model)(outputs, silent)
    assert scores.shape == (3,) and np.all(scores < 0)
    some = silent.clone()
    some[0, 5] = 1.0
    expected = -model.joint.step_losses(outputs, some).detach().numpy()
    assert np.allclose(joint_score(model)(outputs, some), expected, atol=1e-4)
