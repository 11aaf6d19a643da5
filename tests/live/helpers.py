"""Shared pieces of the live tests: the bundled models (loaded once), an engine wired to in-process
ports on a fake clock, and a way to play a call into it at given times."""

from __future__ import annotations

import functools

import mido

from genseq.core.options import SamplingOptions
from genseq.live.clock import FakeClock
from genseq.live.engine import CallAndResponse, EngineSettings
from genseq.live.memory_ports import MemoryInput, MemoryOutput
from genseq.live.player import NotePlayer
from genseq.live.ports import guarded_send
from genseq.live.session import StepSession, load_music_model


@functools.lru_cache(maxsize=None)
def bundled(representation: str = "melody"):
    return load_music_model(None, representation)


def new_session(representation: str = "melody", seed: int = 0) -> StepSession:
    return StepSession(bundled(representation), SamplingOptions(seed=seed, top_p=0.95 if representation == "melody" else None))


class Rig:
    """An engine on a fake clock between an in-process input (`play` into it) and output (read `out`)."""

    def __init__(self, representation: str = "melody", session=None, **settings):
        self.clock = FakeClock()
        self.inport, self.out = MemoryInput("test-in"), MemoryOutput("test-out", clock=self.clock)
        self.player = NotePlayer(guarded_send(self.out))
        self.logged: list[str] = []
        self.session = session or new_session(representation)
        self.engine = CallAndResponse(self.session, self.player, self.clock, EngineSettings(**settings), log=self.logged.append)

    def play(self, notes, velocity: int = 70) -> None:
        """(pitch, on_seconds, off_seconds) notes, put into the input port at those clock times."""
        for pitch, on, off in notes:
            self.clock.at(on, lambda p=pitch: self.inport.put(mido.Message("note_on", note=p, velocity=velocity)))
            self.clock.at(off, lambda p=pitch: self.inport.put(mido.Message("note_off", note=p)))

    def at(self, when: float, message: mido.Message) -> None:
        self.clock.at(when, lambda: self.inport.put(message))

    def note_ons(self) -> list[tuple[float, int]]:
        return [(when, m.note) for when, m in self.out.received if m.type == "note_on" and m.velocity > 0]


def scale_call(start: float = 1.0, notes: int = 8, seconds_each: float = 0.25, gap: float = 0.05):
    """A rising and falling run of eighth notes (at 120 qpm) from `start`."""
    pitches = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 67, 64, 62, 60][:notes]
    return [(p, start + i * seconds_each, start + (i + 1) * seconds_each - gap) for i, p in enumerate(pitches)]
