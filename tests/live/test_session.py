"""The step-by-step session on the one Sampler: it reads played steps the way training fed them,
draws reproducibly, and keeps a state of fixed size however long it runs."""

from __future__ import annotations

import numpy as np
import torch

from genseq.core.notes import NoteSequence
from genseq.live.session import TIME_SIGNATURES
from tests.live.helpers import new_session


def state_sizes(session) -> list[tuple]:
    shapes = []
    for layer in session.sampler.state:
        for tensor in layer if isinstance(layer, tuple) else (layer,):
            shapes.append(tuple(tensor.shape))
    return shapes


def test_listening_to_a_call_at_once_is_the_same_as_step_by_step():
    call = NoteSequence(np.array([[60, 80, 0, 4, 0], [64, 80, 4, 8, 0], [67, 80, 8, 16, 0]]), 4, 120.0, TIME_SIGNATURES, 16)
    whole, stepped = new_session(), new_session()
    values = whole.values_of(call)
    whole.listen(values)
    for value in values:
        stepped.listen(np.asarray([value]))
    assert whole.step == stepped.step == 16
    torch.testing.assert_close(whole.sampler.outputs, stepped.sampler.outputs, atol=1e-5, rtol=1e-5)


def test_the_input_of_step_zero_is_the_lead_in_and_the_bar_position_of_step_zero():
    session = new_session()
    encoding = session.encoding
    row = session.inputs(session.vector(session.last_value), 0)[0]
    expected = np.concatenate([encoding.value_vectors(encoding.silence())[0],
                               encoding.metric.for_steps(TIME_SIGNATURES, np.array([0]))[0]])
    np.testing.assert_array_equal(row, expected)


def test_same_seed_same_steps_and_the_state_never_grows():
    first, second = new_session(seed=3), new_session(seed=3)
    assert [first.draw() for _ in range(64)] == [second.draw() for _ in range(64)]
    sizes = state_sizes(first)
    for _ in range(2000):
        first.draw()
    assert state_sizes(first) == sizes
    assert len(first.metric_rows) <= 4 * first.music.steps_per_bar


def test_the_piano_roll_session_draws_frames():
    session = new_session("pianoroll")
    frame = session.draw()
    assert frame.shape == (session.encoding.value_size,) and set(np.unique(frame)) <= {0.0, 1.0}
    assert session.steps_to_bar_line() == session.music.steps_per_bar - 1  # one step drawn into the bar


def test_a_new_phrase_forgets_the_state_and_starts_at_step_zero():
    session = new_session()
    session.draw_steps(5)
    session.start_phrase()
    assert session.step == 0 and session.sampler.state is None


def test_temperature_can_change_between_draws():
    session = new_session()
    session.set_sampling(temperature=0.0)
    assert session.options.temperature == 0.0 and session.sampler.options.temperature == 0.0
    session.draw()
