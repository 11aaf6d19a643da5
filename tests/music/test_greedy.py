"""Greedy music (genseq/music/greedy.py): the most likely step, unless it would be silence or a held note
longer than music holds."""

from __future__ import annotations

import numpy as np
import torch

from genseq.model.nade import NADE
from genseq.music.encode import FIRST_PITCH_EVENT, HOLD, REST
from genseq.music.greedy import GreedyMelody, GreedyRoll, nade_frame, trailing_melody

EVENTS = FIRST_PITCH_EVENT + 10


def logits_of(probabilities: dict[int, float]) -> np.ndarray:
    p = np.full(EVENTS, 1e-6)
    for event, value in probabilities.items():
        p[event] = value
    return np.log(p / p.sum())[None]


def test_an_unprimed_melody_starts_on_its_most_likely_note():
    rule = GreedyMelody(bar_steps=16, primer_values=None, batch=1)
    assert rule.choose(logits_of({REST: 0.8, FIRST_PITCH_EVENT + 3: 0.05, FIRST_PITCH_EVENT + 7: 0.15}))[0] == FIRST_PITCH_EVENT + 7


def test_the_most_likely_kind_of_step_wins_over_the_single_most_likely_event():
    rule = GreedyMelody(bar_steps=16, primer_values=np.array([FIRST_PITCH_EVENT]), batch=1)
    spread = {HOLD: 0.35, **{FIRST_PITCH_EVENT + i: 0.065 for i in range(10)}}  # notes 0.65 together
    spread[FIRST_PITCH_EVENT + 4] = 0.1
    assert rule.choose(logits_of(spread))[0] == FIRST_PITCH_EVENT + 4
    assert rule.choose(logits_of({HOLD: 0.9, FIRST_PITCH_EVENT: 0.1}))[0] == HOLD


def test_rests_last_at_most_a_bar_and_notes_at_most_two():
    rule = GreedyMelody(bar_steps=4, primer_values=np.array([FIRST_PITCH_EVENT + 2]), batch=1)
    holding = [int(rule.choose(logits_of({HOLD: 0.9, FIRST_PITCH_EVENT + 1: 0.1}))[0]) for _ in range(9)]
    assert holding == [HOLD] * 7 + [FIRST_PITCH_EVENT + 1, HOLD]  # the primer's note held 8 steps, then a new one
    rule = GreedyMelody(bar_steps=4, primer_values=np.array([FIRST_PITCH_EVENT, REST]), batch=1)
    resting = [int(rule.choose(logits_of({REST: 0.9, FIRST_PITCH_EVENT + 5: 0.1}))[0]) for _ in range(4)]
    assert resting == [REST] * 3 + [FIRST_PITCH_EVENT + 5]


def test_a_hold_after_silence_is_silence():
    assert trailing_melody(np.array([FIRST_PITCH_EVENT, HOLD, REST, HOLD])) == (2, 0, False)
    assert trailing_melody(np.array([REST, FIRST_PITCH_EVENT, HOLD])) == (0, 2, True)
    rule = GreedyMelody(bar_steps=16, primer_values=np.array([REST]), batch=1)
    assert rule.choose(logits_of({HOLD: 0.6, REST: 0.3, FIRST_PITCH_EVENT: 0.1}))[0] == HOLD  # silence, as the model said


def quiet_nade(units: int = 6, hidden: int = 4) -> tuple[NADE, np.ndarray, np.ndarray]:
    """A NADE whose every unit is unlikely (p about 0.1 to 0.3): greedy unit by unit turns none on."""
    nade = NADE(units, hidden)
    with torch.no_grad():
        nade.W.zero_()
        nade.V.zero_()
    visible = np.log(np.array([0.1, 0.3, 0.2, 0.1, 0.25, 0.1]) / (1 - np.array([0.1, 0.3, 0.2, 0.1, 0.25, 0.1])))
    return nade, visible, np.zeros(hidden)


def test_a_nade_frame_is_empty_when_that_is_likeliest_unless_a_note_is_needed():
    nade, visible, hidden = quiet_nade()
    W, V = nade.numpy_weights()
    none = np.zeros(6, dtype=bool)
    assert not nade_frame(visible, hidden, W, V, False, none, None).any()  # p(empty) = 0.9*0.7*0.8*0.9*0.75*0.9 = 0.31
    needed = nade_frame(visible, hidden, W, V, True, none, None)
    assert np.flatnonzero(needed).tolist() == [1]  # first on at 1: 0.9 * 0.3 = 0.27, the likeliest first note
    banned = none.copy()
    banned[1] = True
    assert np.flatnonzero(nade_frame(visible, hidden, W, V, True, banned, None)).tolist() == [2]  # 0.9 * 0.2 = 0.18


def test_a_nade_frame_turns_on_what_is_likelier_than_stopping():
    nade, _, hidden = quiet_nade()
    W, V = nade.numpy_weights()
    visible = np.log(np.array([0.45] * 6) / 0.55)  # each unit below 0.5, but an empty frame is 0.55**6 = 0.03
    frame = nade_frame(visible, hidden, W, V, False, np.zeros(6, dtype=bool), None)
    assert frame.sum() >= 1
    assert nade_frame(visible, hidden, W, V, False, np.zeros(6, dtype=bool), 1).sum() == 1  # top_k caps it


def test_a_greedy_roll_lets_a_key_go_after_two_bars_and_fills_a_bar_of_silence():
    nade, visible, hidden = quiet_nade()
    rule = GreedyRoll(bar_steps=2, primer_values=np.eye(6, dtype=np.float32)[[1]], batch=1, units=6, top_k=None)
    loud = np.concatenate([np.log(np.array([0.1, 0.9, 0.1, 0.1, 0.1, 0.1]) / 0.9), hidden])[None]
    frames = [np.flatnonzero(rule.choose(loud, nade)[0]).tolist() for _ in range(5)]
    assert frames[:3] == [[1], [1], [1]] and 1 not in frames[3]  # held 4 frames (the primer's too), then let go
    quiet = np.concatenate([visible, hidden])[None]
    rule = GreedyRoll(bar_steps=2, primer_values=None, batch=1, units=6, top_k=None)
    frames = [np.flatnonzero(rule.choose(quiet, nade)[0]).tolist() for _ in range(4)]
    assert frames == [[1], [], [], [1]]  # starts on a note, rests a bar (2 frames), then the likeliest note again
