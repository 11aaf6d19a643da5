"""Endless streams: each step's notes go out on the grid, nothing hangs when it stops, and memory
does not grow with the number of steps."""

from __future__ import annotations

import numpy as np
import pytest

from genseq.live.clock import FakeClock
from genseq.live.memory_ports import MemoryOutput
from genseq.live.player import NotePlayer
from genseq.core.notes import NoteSequence
from genseq.live.stream import START_LEAD_S, StepNotes, stream_music
from genseq.music.encode import FIRST_PITCH_EVENT, HOLD, REST
from tests.live.helpers import new_session


@pytest.mark.parametrize("representation", ["melody", "pianoroll"])
def test_a_stream_plays_on_the_grid_and_leaves_no_note_hanging(representation):
    clock = FakeClock()
    out = MemoryOutput("o", clock=clock)
    session = new_session(representation)
    steps = stream_music(session, NotePlayer(out.send), clock, qpm=120.0, seconds=16.0)
    step_seconds = 0.5 / session.music.steps_per_quarter
    assert steps == round(16.0 / step_seconds)
    assert out.messages("note_on") and out.hung_notes() == set()
    for when, _ in out.received[:-len(out.messages("note_off")) or None]:
        offset = (when - START_LEAD_S) / step_seconds
        assert abs(offset - round(offset)) < 1e-6


def test_ctrl_c_mid_stream_releases_the_sounding_note():
    clock = FakeClock()
    out = MemoryOutput("o", clock=clock)

    def ctrl_c():
        raise KeyboardInterrupt

    clock.at(7.3, ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        stream_music(new_session(), NotePlayer(out.send), clock, qpm=120.0)
    assert out.messages("note_on") and out.hung_notes() == set()


def test_melody_events_become_note_ons_and_offs():
    session = new_session()
    notes = StepNotes(session, channel=0, velocity=80)
    pitch = lambda p: FIRST_PITCH_EVENT + p - session.encoding.min_pitch  # noqa: E731
    kinds = [[(m.type, m.note) for m in notes.messages(v)] for v in (pitch(60), HOLD, pitch(60), pitch(62), REST, HOLD)]
    assert kinds == [[("note_on", 60)], [], [("note_off", 60), ("note_on", 60)], [("note_off", 60), ("note_on", 62)],
                     [("note_off", 62)], []]


def test_piano_roll_frames_become_note_ons_and_offs():
    session = new_session("pianoroll")
    notes = StepNotes(session, channel=0, velocity=80)
    played = NoteSequence([[60, 80, 0, 2, 0], [64, 80, 0, 1, 0], [67, 80, 1, 2, 0]], session.encoding.steps_per_quarter,
                          120.0, [(0, 4, 4)], 3)  # the bundled model's own frames of: 60+64, 60+67, nothing
    kinds = [sorted((m.type, m.note) for m in notes.messages(f)) for f in session.encoding.values(played)]
    assert kinds == [[("note_on", 60), ("note_on", 64)], [("note_off", 64), ("note_on", 67)],
                     [("note_off", 60), ("note_off", 67)]]


def test_a_long_stream_keeps_nothing_per_step():
    clock = FakeClock()
    out = MemoryOutput("o", clock=clock)
    out.keep = False
    session = new_session()
    stream_music(session, NotePlayer(out.send), clock, qpm=1000.0, seconds=300.0)  # 20000 steps
    assert len(session.metric_rows) <= 4 * session.music.steps_per_bar


def test_a_repeated_key_of_an_onset_roll_is_played_again():
    from genseq.music.encode import OnsetRollEncoding

    session = new_session("pianoroll")
    if not isinstance(session.encoding, OnsetRollEncoding):
        pytest.skip("the bundled piano roll has no onsets (a held key and a repeated one are the same frames)")
    notes = StepNotes(session, channel=0, velocity=80)
    played = NoteSequence([[60, 80, 0, 1, 0], [60, 80, 1, 3, 0], [64, 80, 1, 3, 0]], session.encoding.steps_per_quarter,
                          120.0, [(0, 4, 4)], 4)
    kinds = [[(m.type, m.note) for m in notes.messages(f)] for f in session.encoding.values(played)]
    assert kinds == [[("note_on", 60)], [("note_off", 60), ("note_on", 60), ("note_on", 64)], [],
                     [("note_off", 60), ("note_off", 64)]]
