"""The player sends what is due in time order and can end every note it started."""

from __future__ import annotations

import mido

from genseq.live.memory_ports import MemoryOutput
from genseq.live.player import NotePlayer, release_quietly


def on(note, channel=0):
    return mido.Message("note_on", note=note, velocity=80, channel=channel)


def off(note, channel=0):
    return mido.Message("note_off", note=note, channel=channel)


def test_messages_go_out_in_time_order_when_due():
    out = MemoryOutput("o")
    player = NotePlayer(out.send)
    player.schedule(2.0, off(60))
    player.schedule(1.0, on(60))
    player.schedule(1.0, on(64))
    assert player.send_due(0.5) == 0 and player.next_time() == 1.0
    assert player.send_due(1.0) == 2 and [m.note for m in out.messages()] == [60, 64]
    assert player.pending_notes() == 0 and player.next_time() == 2.0


def test_release_all_ends_every_started_note_once_and_drops_the_schedule():
    out = MemoryOutput("o")
    player = NotePlayer(out.send)
    player.send(on(60))
    player.send(on(60))  # the same key twice (a thru note and an answer note)
    player.send(on(67, channel=3))
    player.schedule(5.0, on(70))
    assert player.release_all() == 3
    assert out.hung_notes() == set() and player.next_time() is None
    player.send(off(60))  # the answer's own note-off, after the panic: not sent again
    assert len(out.messages("note_off")) == 3


def test_releasing_through_a_port_that_is_gone_does_not_raise():
    out = MemoryOutput("o")
    player = NotePlayer(out.send)
    player.send(on(60))
    out.vanish()
    assert release_quietly(player) == 0 and player.sounding == {}
