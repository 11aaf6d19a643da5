"""Call and response in fake time: when a call ends, where the answer starts, how long it is,
the push-back, controllers, and cutting an answer short."""

from __future__ import annotations

import math

import mido
import numpy as np
import pytest

from genseq.live.runner import POLL_S, run_live
from tests.live.helpers import Rig, new_session, scale_call

BAR = 2.0  # seconds, at 120 qpm
STAMP = POLL_S + 1e-9  # a key is stamped when the loop next reads the port


def on_bar_line(when: float, anchor: float, bar: float = BAR) -> bool:
    bars = (when - anchor) / bar
    return abs(bars - round(bars)) < 1e-6


@pytest.mark.parametrize("representation", ["melody", "pianoroll"])
def test_a_bar_of_silence_ends_the_call_and_the_answer_starts_on_the_next_bar_line(representation):
    rig = Rig(representation, tempo=120)
    call = scale_call(start=1.0)
    rig.play(call)
    run_live(rig.engine, rig.inport, rig.clock, stop_at=20.0)
    (answer,) = rig.engine.answers
    last_up = call[-1][2]
    assert answer.ended_at == pytest.approx(last_up + BAR, abs=STAMP)  # a bar of silence after the last key up
    assert on_bar_line(answer.start, anchor=1.0) and answer.start >= answer.ended_at + BAR / 4
    assert not answer.pushed_back and answer.ready_at <= answer.bar_line
    first_on = min(t for t, _ in rig.note_ons())
    assert first_on >= answer.start - 1e-9 and answer.notes
    assert rig.out.hung_notes() == set()


def test_gap_ms_ends_the_call_that_long_after_the_last_key_up():
    rig = Rig(tempo=120, gap_ms=600)
    call = scale_call(start=1.0)
    rig.play(call)
    run_live(rig.engine, rig.inport, rig.clock, stop_at=20.0)
    (answer,) = rig.engine.answers
    assert answer.ended_at == pytest.approx(call[-1][2] + 0.6, abs=STAMP)
    assert answer.start == pytest.approx(1.0 + BAR * math.ceil((answer.ended_at + BAR / 4 - 1.0) / BAR))


def test_no_call_ends_while_a_key_is_held():
    rig = Rig(tempo=120)
    rig.play([(60, 1.0, 9.0)])  # held for four bars
    run_live(rig.engine, rig.inport, rig.clock, stop_at=8.9)
    assert rig.engine.answers.maxlen and len(rig.engine.answers) == 0


def test_the_answer_lasts_as_long_as_the_call_and_a_bar_at_least():
    rig = Rig(tempo=120, max_bars=8)
    two_bars = [(60 + i % 5, 1.0 + i * 0.5, 1.4 + i * 0.5) for i in range(7)]  # 3.4 s: two bars
    rig.play(two_bars)
    rig.play([(64, 20.0, 20.2)])  # one short note: a bar
    run_live(rig.engine, rig.inport, rig.clock, stop_at=40.0)
    first, second = rig.engine.answers
    assert first.call_bars == 2 and max(end for _, _, end in first.notes) <= 2 * 16
    assert second.call_bars == 1 and max(end for _, _, end in second.notes) <= 16


def test_generating_longer_than_a_quarter_bar_pushes_the_answer_back_a_bar_with_a_warning():
    rig = Rig(tempo=120)
    slow, draw = rig.session, rig.session.draw

    def slow_draw():
        rig.clock.advance(0.05)  # a bar of 16 steps: 0.8 s of generating, more than a quarter bar (0.5 s)
        return draw()

    slow.draw = slow_draw
    rig.play(scale_call(start=1.0))
    run_live(rig.engine, rig.inport, rig.clock, stop_at=20.0)
    (answer,) = rig.engine.answers
    assert answer.generation_s > BAR / 4
    assert answer.start == pytest.approx(answer.bar_line + BAR)
    assert any("pushed back 1 bar" in line for line in rig.logged)
    assert min(t for t, _ in rig.note_ons()) >= answer.start - 1e-9


def test_a_call_under_the_minimum_is_ignored():
    rig = Rig(tempo=120, min_notes=3)
    rig.play([(60, 1.0, 1.2), (62, 1.3, 1.5)])
    run_live(rig.engine, rig.inport, rig.clock, stop_at=10.0)
    assert not rig.engine.answers and rig.out.received == []
    assert any("ignored" in line for line in rig.logged)


def test_the_tempo_is_estimated_from_the_call_when_not_given():
    rig = Rig(tempo=None)
    rig.play([(60 + i, 1.0 + i * 0.3, 1.25 + i * 0.3) for i in range(8)])  # eighths of 0.3 s: 100 qpm
    run_live(rig.engine, rig.inport, rig.clock, stop_at=20.0)
    assert rig.engine.qpm == pytest.approx(100.0, abs=1)
    (answer,) = rig.engine.answers
    assert on_bar_line(answer.start, 1.0, bar=4 * 60 / rig.engine.qpm)


def test_controllers_set_temperature_and_tempo():
    rig = Rig(tempo=120)
    rig.at(0.5, mido.Message("control_change", control=16, value=127))
    rig.at(0.6, mido.Message("control_change", control=17, value=0))
    run_live(rig.engine, rig.inport, rig.clock, stop_at=1.0)
    assert rig.session.options.temperature == 2.0
    assert rig.engine.qpm == 60.0


def test_playing_during_an_answer_cuts_it_short_and_leaves_no_note_hanging():
    rig = Rig(tempo=120)
    rig.play(scale_call(start=1.0))
    run_live(rig.engine, rig.inport, rig.clock, stop_at=20.0)
    start = rig.engine.answers[0].start
    rig2 = Rig(tempo=120)
    rig2.play(scale_call(start=1.0))
    rig2.play([(72, start + 0.3, start + 0.5)])  # a key 0.3 s into the answer
    run_live(rig2.engine, rig2.inport, rig2.clock, stop_at=start + 0.4)
    sent_after_cut = [when for when, _ in rig2.note_ons() if when > start + 0.3]
    assert sent_after_cut == []
    assert rig2.out.hung_notes() == set()
    assert rig2.engine.call and rig2.engine.call[0].pitch == 72


def test_same_seed_same_answer():
    answers = []
    for _ in range(2):
        rig = Rig(tempo=120, session=new_session(seed=7))
        rig.play(scale_call(start=1.0))
        run_live(rig.engine, rig.inport, rig.clock, stop_at=20.0)
        answers.append(rig.engine.answers[0].notes)
    assert answers[0] == answers[1]


def test_the_answer_is_the_candidate_nearest_the_call_in_notes_a_bar_as_time_allows():
    from genseq.live.engine import CANDIDATES, closest_to_call

    session, drawn = new_session(), []
    listen = session.listen
    session.listen = lambda values: (drawn.append(1), listen(values))
    call = np.zeros(16, dtype=np.int64)
    call[::4] = session.encoding.fold_pitch(60) - session.encoding.min_pitch + 2  # four quarter notes
    chosen = closest_to_call(session, call, 16, 120.0, out_of_time=lambda: False)
    assert len(drawn) == CANDIDATES and len(session.to_notes(chosen, 120.0)) > 0
    drawn.clear()
    closest_to_call(session, call, 16, 120.0, out_of_time=lambda: True)
    assert len(drawn) == 1
