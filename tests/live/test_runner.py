"""The live loop stops cleanly whatever stops it: a panic controller, Ctrl-C, a port that
disappears, a bug. Each time every note genseq started gets its note-off."""

from __future__ import annotations

import mido
import pytest

from genseq.core.errors import GenseqError
from genseq.live.ports import PortGone, PortWatch
from genseq.live.runner import run_live
from tests.live.helpers import Rig, scale_call


def answering_rig(**settings) -> tuple[Rig, float]:
    """A rig whose answer to a scale call is sounding at the returned time (its first note's middle)."""
    probe = Rig(tempo=120, **settings)
    probe.play(scale_call(start=1.0))
    run_live(probe.engine, probe.inport, probe.clock, stop_at=20.0)
    pitch, start, end = probe.engine.answers[0].notes[0]
    rig = Rig(tempo=120, **settings)
    rig.play(scale_call(start=1.0))
    return rig, probe.engine.answers[0].start + (start + end) / 2 * 0.125


def test_the_panic_controller_ends_every_sounding_note():
    rig, sounding = answering_rig()
    rig.at(sounding, mido.Message("control_change", control=123, value=127))
    run_live(rig.engine, rig.inport, rig.clock, stop_at=sounding + 4.0)
    assert any(line.startswith("panic: 1 notes released") for line in rig.logged)
    assert rig.out.hung_notes() == set()
    assert not [when for when, _ in rig.note_ons() if when > sounding + 0.01]  # the rest of the answer is dropped


def test_ctrl_c_while_answering_releases_every_note():
    rig, sounding = answering_rig()

    def ctrl_c():
        raise KeyboardInterrupt

    rig.clock.at(sounding, ctrl_c)
    ending = run_live(rig.engine, rig.inport, rig.clock)
    assert ending.reason == "interrupted" and ending.released == 1
    assert rig.out.hung_notes() == set()


def test_a_stop_time_while_answering_releases_every_note():
    rig, sounding = answering_rig(thru=True)
    rig.play([(50, sounding - 0.05, sounding + 5.0)])  # a key held past the stop, echoed through
    ending = run_live(rig.engine, rig.inport, rig.clock, stop_at=sounding)
    assert ending.released >= 1
    assert rig.out.hung_notes() == set()


def test_an_input_port_that_disappears_is_one_line_and_no_note_hangs():
    rig, sounding = answering_rig()
    rig.clock.at(sounding, rig.inport.vanish)
    with pytest.raises(GenseqError) as caught:
        run_live(rig.engine, rig.inport, rig.clock)
    assert "disappeared" in str(caught.value) and "\n" not in str(caught.value)
    assert str(caught.value).startswith("test-in: ")
    assert rig.out.hung_notes() == set()


def test_an_output_port_that_disappears_stops_cleanly():
    rig, sounding = answering_rig()
    rig.clock.at(sounding - 0.01, rig.out.vanish)
    with pytest.raises(GenseqError, match="test-out: MIDI port failed"):
        run_live(rig.engine, rig.inport, rig.clock)
    assert rig.player.sounding == {}


def test_a_port_that_is_no_longer_listed_ends_the_session():
    rig, sounding = answering_rig()
    listed = {False: ["test-in"], True: ["test-out"]}
    watch = PortWatch([rig.inport], rig.clock, listed=lambda output: listed[output])
    rig.clock.at(sounding, lambda: listed.update({False: []}))
    with pytest.raises(GenseqError, match="disappeared"):
        run_live(rig.engine, rig.inport, rig.clock, watch=watch)
    assert rig.out.hung_notes() == set()


def test_a_bug_mid_answer_still_releases_every_note():
    rig, sounding = answering_rig()

    def bug():
        raise ZeroDivisionError("a bug")

    rig.clock.at(sounding, bug)
    with pytest.raises(ZeroDivisionError):
        run_live(rig.engine, rig.inport, rig.clock)
    assert rig.out.hung_notes() == set()


def test_port_gone_names_the_port():
    assert str(PortGone("USB Keys")) == "MIDI port 'USB Keys' disappeared"
