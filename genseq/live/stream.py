"""Endless music: the session draws step after step and each step's notes go out on its grid time,
for as long as it runs. Nothing grows with time: the recurrent state has a fixed size, and a step
keeps only the notes it has sounding; what a caller measures goes through `on_step`."""

from __future__ import annotations

from typing import Callable

import mido
import numpy as np

from genseq.live.player import NotePlayer, release_quietly
from genseq.live.session import StepSession
from genseq.music.encode import FIRST_PITCH_EVENT, HOLD, PIANO_LOW

START_LEAD_S = 0.05  # the first step goes out this long after the stream starts
PIECE_BARS = 32  # a tune's length in the corpora the models learned: then a new piece begins


class StepNotes:
    """Turns each step's value into note-ons and note-offs: melody events (a pitch starts a note, a
    hold keeps it, a rest ends it), piano-roll frames (a key on starts, a key off ends), or any other
    encoding's steps read two at a time (a note that starts in the second is an onset, a repeated
    key's too)."""

    def __init__(self, session: StepSession, channel: int, velocity: int):
        self.session, self.channel, self.velocity = session, channel, velocity
        self.sounding: set[int] = set()
        self.previous = None

    def messages(self, value) -> list[mido.Message]:
        if self.session.encoding.name not in ("melody", "pianoroll"):
            return self.from_two_steps(value)
        pitches = self.pitches_of(value)
        if pitches is None:  # a hold
            return []
        out = [mido.Message("note_off", channel=self.channel, note=p) for p in sorted(self.sounding - pitches)]
        fresh = pitches - self.sounding if self.polyphonic else pitches
        out += [mido.Message("note_on", channel=self.channel, note=p, velocity=self.velocity) for p in sorted(fresh)]
        if not self.polyphonic and pitches & self.sounding:  # the same pitch again: end the old note first
            out = [mido.Message("note_off", channel=self.channel, note=p) for p in sorted(pitches & self.sounding)] + out
        self.sounding = pitches
        return out

    @property
    def polyphonic(self) -> bool:
        return self.session.encoding.head == "bernoulli"

    def pitches_of(self, value) -> set[int] | None:
        """The pitches a step's value sounds; None for a melody's hold (the note goes on)."""
        encoding = self.session.encoding
        if encoding.name == "melody":
            if int(value) == HOLD:
                return None if self.sounding else set()
            return {encoding.min_pitch + int(value) - FIRST_PITCH_EVENT} if int(value) >= FIRST_PITCH_EVENT else set()
        return {PIANO_LOW + int(key) for key in np.flatnonzero(np.asarray(value) > 0.5)}

    def from_two_steps(self, value) -> list[mido.Message]:
        steps = [value] if self.previous is None else [self.previous, value]
        notes = self.session.to_notes(np.stack(steps), 120.0).notes
        now = len(steps) - 1
        starting = {int(n[0]) for n in notes if n[2] == now}
        going_on = {int(n[0]) for n in notes if n[2] < now < n[3]}
        out = [mido.Message("note_off", channel=self.channel, note=p) for p in sorted(self.sounding - going_on)]
        out += [mido.Message("note_on", channel=self.channel, note=p, velocity=self.velocity) for p in sorted(starting)]
        self.sounding, self.previous = going_on | starting, value
        return out


def stream_music(session: StepSession, player: NotePlayer, clock, qpm: float, seconds: float | None = None,
                 channel: int = 0, velocity: int = 80, on_step: Callable[[int, float, float], None] | None = None) -> int:
    """Play new music through `player` until `seconds` of it have played (None: until Ctrl-C, which
    propagates after every note is released). on_step(index, draw_seconds, lateness_seconds) sees each
    step. Returns how many steps were played."""
    step_seconds = 60.0 / qpm / session.music.steps_per_quarter
    piece_steps = PIECE_BARS * session.music.steps_per_bar
    notes = StepNotes(session, channel, velocity)
    start, index = clock.now() + START_LEAD_S, 0
    try:
        while seconds is None or index * step_seconds < seconds:
            if index % piece_steps == 0:
                session.start_phrase()
            began = clock.now()
            value = session.draw()
            drawn = clock.now()
            due = start + index * step_seconds
            clock.sleep_until(due, precise=True)
            for message in notes.messages(value):
                player.send(message)
            if on_step is not None:
                on_step(index, drawn - began, max(0.0, drawn - due))
            index += 1
    finally:
        release_quietly(player)
    return index
