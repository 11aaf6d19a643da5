"""What goes out: timed MIDI messages in time order, and a record of every note genseq started
and has not ended, so stop, panic and Ctrl-C can end each one (no hung notes, ever)."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter

import mido


class NotePlayer:
    """Messages scheduled at clock times, sent through `send` when due. Tracks sounding notes."""

    def __init__(self, send):
        self.send_now = send
        self.queue: list[tuple[float, int, mido.Message]] = []
        self.order = itertools.count()
        self.sounding: Counter = Counter()  # (channel, note) -> how many note-ons wait for their note-off
        self.sent_log = None  # a callback(time_sent_for, message) for benchmarks

    def schedule(self, when: float, message: mido.Message) -> None:
        heapq.heappush(self.queue, (when, next(self.order), message))

    def next_time(self) -> float | None:
        return self.queue[0][0] if self.queue else None

    def pending_notes(self) -> int:
        return sum(1 for _, _, message in self.queue if is_note_on(message))

    def send(self, message: mido.Message, scheduled_for: float | None = None) -> None:
        key = (message.channel, message.note) if message.type in ("note_on", "note_off") else None
        if key is not None and is_note_off(message):
            if self.sounding[key] == 0:
                return  # nothing of ours sounds there (released by a panic already)
            self.sounding[key] -= 1
            if self.sounding[key] == 0:
                del self.sounding[key]
        self.send_now(message)
        if key is not None and is_note_on(message):
            self.sounding[key] += 1
        if self.sent_log is not None:
            self.sent_log(scheduled_for, message)

    def send_due(self, now: float) -> int:
        """Send every message due by `now`, in time order; how many were sent."""
        count = 0
        while self.queue and self.queue[0][0] <= now:
            when, _, message = heapq.heappop(self.queue)
            self.send(message, when)
            count += 1
        return count

    def cancel(self) -> None:
        """Drop what is scheduled (an answer cut short); sounding notes still need `release_all`."""
        self.queue.clear()

    def release_all(self) -> int:
        """A note-off for every note genseq started and has not ended; nothing scheduled is kept."""
        self.cancel()
        released = 0
        for (channel, note), count in list(self.sounding.items()):
            for _ in range(count):
                self.send(mido.Message("note_off", channel=channel, note=note, velocity=0))
                released += 1
        return released


def release_quietly(player: NotePlayer) -> int:
    """Release every sounding note; a port that has itself gone cannot be told, and is let be."""
    try:
        return player.release_all()
    except Exception:  # noqa: BLE001 - stopping must not fail on the way out
        player.sounding.clear()
        return 0


def is_note_on(message) -> bool:
    return message.type == "note_on" and message.velocity > 0


def is_note_off(message) -> bool:
    return message.type == "note_off" or (message.type == "note_on" and message.velocity == 0)
