"""In-process MIDI ports (mido's port classes): what tests and benchmarks play into and listen to,
and what a page's WebSocket feeds the engine through. Nothing here needs a MIDI system."""

from __future__ import annotations

import mido
from mido.ports import BaseInput, BaseOutput


class MemoryInput(BaseInput):
    """An input port that others `put` messages into (from any thread). `vanish()` makes it behave
    like a device that was unplugged: the next read fails."""

    def _open(self, **kwargs):
        self.gone = False

    def put(self, message: mido.Message) -> None:
        with self._lock:
            self._messages.append(message)

    def vanish(self) -> None:
        self.gone = True

    def _receive(self, block=True):
        if self.gone:
            raise OSError(f"MIDI port {self.name!r} disappeared")
        return None


class MemoryOutput(BaseOutput):
    """An output port that keeps what it was sent, each with the clock time it arrived."""

    def _open(self, clock=None, **kwargs):
        self.clock = clock
        self.received: list[tuple[float | None, mido.Message]] = []
        self.gone = False
        self.keep = True

    def vanish(self) -> None:
        self.gone = True

    def _send(self, message: mido.Message) -> None:
        if self.gone:
            raise OSError(f"MIDI port {self.name!r} disappeared")
        if self.keep:
            self.received.append((self.clock.now() if self.clock else None, message))

    def messages(self, kind: str | None = None) -> list[mido.Message]:
        return [message for _, message in self.received if kind is None or message.type == kind]

    def hung_notes(self) -> set[tuple[int, int]]:
        """Notes whose last note-on has no note-off after it (what a synth would still be playing)."""
        sounding: dict[tuple[int, int], int] = {}
        for _, message in self.received:
            if message.type not in ("note_on", "note_off"):
                continue
            key = (message.channel, message.note)
            if message.type == "note_on" and message.velocity > 0:
                sounding[key] = sounding.get(key, 0) + 1
            else:
                sounding[key] = max(0, sounding.get(key, 0) - 1)
        return {key for key, count in sounding.items() if count}
