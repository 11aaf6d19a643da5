"""Call and response: listen to a call, and when it ends (a bar of silence, or a gap after the last
key up) quantise it onto the model's grid, prime the session with it and schedule an answer as long
as the call that starts on a bar line. If generating took more than a quarter of a bar, or the answer
would not be ready in time, the whole answer moves back a bar and a warning says so."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import mido
import numpy as np

from genseq.core.notes import END, START
from genseq.live.calls import Grid, PlayedNote, estimate_tempo, quantise_call
from genseq.live.player import NotePlayer, is_note_off, is_note_on
from genseq.live.session import StepSession

LISTENING, ANSWERING = "listening", "answering"
SEND_LEAD_S = 0.002  # an answer must be ready this long before its first bar line
CANDIDATES = 8  # answers drawn per call, time allowing; the one that fits the call best is played
TEMPERATURE_SPAN, TEMPO_SPAN = (0.0, 2.0), (60.0, 200.0)  # what a controller's 0..127 covers


@dataclass
class EngineSettings:
    tempo: float | None = None  # None: estimated from the first call (120 until then)
    gap_ms: float | None = None  # None: a bar of silence ends a call
    min_notes: int = 1
    max_bars: int = 8
    channel: int = 0
    thru: bool = False
    temperature_cc: int | None = 16
    tempo_cc: int | None = 17
    panic_cc: int | None = 123


@dataclass
class Answer:
    """What happened to one call: when it ended, when its answer was ready, and when it starts."""

    ended_at: float
    ready_at: float
    bar_line: float  # the first bar line the answer was meant for
    start: float  # where it was scheduled (a bar later when pushed back)
    generation_s: float
    call_bars: int
    notes: list = field(default_factory=list)  # (pitch, start_step, end_step) of the answer

    @property
    def pushed_back(self) -> bool:
        return self.start > self.bar_line

    @property
    def margin_ms(self) -> float:
        """How long before its bar line the answer was ready (negative: late)."""
        return (self.bar_line - self.ready_at) * 1000


class CallAndResponse:
    def __init__(self, session: StepSession, player: NotePlayer, clock, settings: EngineSettings, log=print):
        self.session, self.player, self.clock, self.settings, self.log = session, player, clock, settings, log
        self.qpm = settings.tempo or 120.0
        self.tempo_known = settings.tempo is not None
        self.state = LISTENING
        self.call: list[PlayedNote] = []
        self.held: dict[int, PlayedNote] = {}
        self.last_release: float | None = None
        self.answers: deque[Answer] = deque(maxlen=1000)  # bounded: a session can run for days

    # -- input

    def on_message(self, message: mido.Message, now: float) -> None:
        if is_note_on(message):
            self.key_down(message, now)
        elif is_note_off(message):
            self.key_up(message, now)
        elif message.type == "control_change":
            self.control(message.control, message.value)

    def key_down(self, message, now: float) -> None:
        if self.state == ANSWERING:  # playing again cuts the answer short: a new call begins
            self.player.release_all()
            self.state = LISTENING
        if message.note in self.held:
            self.held.pop(message.note).off = now
        note = PlayedNote(message.note, message.velocity, now)
        self.call.append(note)
        self.held[message.note] = note
        if self.settings.thru:
            self.player.send(message.copy(channel=self.settings.channel))

    def key_up(self, message, now: float) -> None:
        note = self.held.pop(message.note, None)
        if note is None:
            return
        note.off = now
        self.last_release = now
        if self.settings.thru:
            self.player.send(mido.Message("note_off", channel=self.settings.channel, note=message.note))

    def control(self, number: int, value: int) -> None:
        settings = self.settings
        if number == settings.temperature_cc:
            low, high = TEMPERATURE_SPAN
            self.session.set_sampling(temperature=round(low + value / 127 * (high - low), 2))
            self.log(f"temperature {self.session.options.temperature}")
        elif number == settings.tempo_cc:
            low, high = TEMPO_SPAN
            self.qpm, self.tempo_known = round(low + value / 127 * (high - low), 1), True
            self.log(f"tempo {self.qpm} qpm (from the next call)")
        elif number == settings.panic_cc and value > 0:
            self.panic()

    def panic(self) -> int:
        """All notes off: every note genseq started ends now, the call and the answer are dropped."""
        released = self.player.release_all()
        self.call, self.held, self.state = [], {}, LISTENING
        self.log(f"panic: {released} notes released")
        return released

    # -- time

    def bar_seconds(self) -> float:
        return 4 * 60.0 / self.qpm

    def call_ends_at(self) -> float | None:
        if not self.call or self.held or self.last_release is None:
            return None
        gap = self.settings.gap_ms / 1000 if self.settings.gap_ms is not None else self.bar_seconds()
        return self.last_release + gap

    def next_deadline(self) -> float | None:
        times = [t for t in (self.call_ends_at(), self.player.next_time()) if t is not None]
        return min(times) if times else None

    def tick(self, now: float) -> None:
        ends = self.call_ends_at()
        if self.state == LISTENING and ends is not None and now >= ends:
            self.answer(now)
        elif self.state == ANSWERING and self.player.next_time() is None:
            self.state = LISTENING

    # -- the answer

    def answer(self, now: float) -> Answer | None:
        call, self.call, self.last_release = self.call, [], None
        if len(call) < self.settings.min_notes:
            self.log(f"a call of {len(call)} notes is under --min-notes {self.settings.min_notes}: ignored")
            return None
        if not self.tempo_known:
            estimated = estimate_tempo([note.on for note in call])
            if estimated is not None:
                self.qpm, self.tempo_known = estimated, True
                self.log(f"tempo {self.qpm} qpm (estimated from the call)")
        grid = Grid(self.qpm, self.session.music.steps_per_quarter, anchor=call[0].on)
        began = self.clock.now()
        sequence = quantise_call(call, grid, now)
        call_bars = sequence.total_steps // grid.steps_per_bar
        values = self.generate(self.session.values_of(sequence), min(max(call_bars, 1), self.settings.max_bars) * grid.steps_per_bar)
        ready = self.clock.now()
        record = self.place(grid, now, ready, ready - began, call_bars)
        notes = self.session.to_notes(values, self.qpm).notes
        velocity = int(np.median([note.velocity for note in call]))
        for row in notes:
            pitch = int(row[0])
            on = record.start + row[START] * grid.step_seconds
            off = record.start + row[END] * grid.step_seconds
            self.player.schedule(on, mido.Message("note_on", channel=self.settings.channel, note=pitch, velocity=velocity))
            self.player.schedule(off, mido.Message("note_off", channel=self.settings.channel, note=pitch))
            record.notes.append((pitch, int(row[START]), int(row[END])))
        self.answers.append(record)
        self.state = ANSWERING if record.notes else LISTENING
        return record

    def generate(self, call_values: np.ndarray, steps: int) -> np.ndarray:
        """The answer: of up to CANDIDATES drawn after the call, the one whose notes a bar come
        closest to the call's (a silent one only if all are), drawing no more once an eighth of a
        bar has gone (half the quarter bar generating may take)."""
        deadline = self.clock.now() + self.bar_seconds() / 8
        return closest_to_call(self.session, call_values, steps, self.qpm, lambda: self.clock.now() >= deadline)

    def place(self, grid: Grid, ended: float, ready: float, generation_s: float, call_bars: int) -> Answer:
        """The bar line the answer starts on: the first a quarter bar or more after the call ended,
        a bar later when generating took longer than that quarter, later still while not ready."""
        bar = grid.bar_seconds
        bar_line = grid.bar_line_at_or_after(ended + bar / 4)
        start = bar_line + (bar if generation_s > bar / 4 else 0.0)
        start += bar * max(0, math.ceil((ready + SEND_LEAD_S - start) / bar))
        record = Answer(ended, ready, bar_line, start, generation_s, call_bars)
        if record.pushed_back:
            bars = round((start - bar_line) / bar)
            self.log(f"warning: generating took {generation_s * 1000:.0f} ms (a quarter bar is {bar * 250:.0f} ms): "
                     f"answer pushed back {bars} bar{'s' if bars > 1 else ''}")
        return record

    def status(self) -> dict:
        last = self.answers[-1] if self.answers else None
        return {"state": self.state, "tempo": self.qpm, "temperature": self.session.options.temperature,
                "answers": len(self.answers), "margin_ms": None if last is None else round(last.margin_ms, 1),
                "pushed_back": bool(last and last.pushed_back)}


def closest_to_call(session: StepSession, call_values: np.ndarray, steps: int, qpm: float, out_of_time) -> np.ndarray:
    """Answers drawn after the call (the generator moves on between them) until CANDIDATES or
    out_of_time(); the non-silent one nearest the call in notes a bar (the bundled models alone
    answer denser than people play: bench/live.py's answer-vs-call)."""
    spb = session.music.steps_per_bar
    wanted = len(session.to_notes(call_values, qpm)) / max(1, len(call_values) / spb)
    best, best_gap = None, float("inf")
    for _ in range(CANDIDATES):
        session.start_phrase()
        session.listen(call_values)
        values = session.draw_steps(steps)
        count = len(session.to_notes(values, qpm))
        gap = abs(count / (steps / spb) - wanted) if count else float("inf")
        if best is None or gap < best_gap:
            best, best_gap = values, gap
        if best_gap < float("inf") and out_of_time():
            break
    return best
