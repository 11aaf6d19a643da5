"""Greedy music (--temperature 0): the most likely step, except where that is silence music never holds.

Plain greedy decoding of a music model is silent: after a START input or a rest, the single most likely
step is a rest (or, for a piano roll, every key off), and it stays the most likely step for ever. In the
corpora the models learn from, a piece starts on a note, a rest inside it never lasts more than a bar
(Nottingham, 300 training tunes measured: at most 16 steps at 4 a quarter; piano-roll frames: at most 4
quarters) and a note is rarely held past two bars (99.9% of notes: at most 36 steps). So greedy here is:

- melody: the most likely kind of step (silence, holding the note, a new note, whose probability is that
  of all pitches together), then its most likely event;
- piano roll with a joint (NADE) head: the frame built one key on at a time, each time the likelier of
  "no further key on" and "the next key on is k" (exact under the head); independent keys: each key
  more likely on than off;

except that an unprimed piece never starts silent, a rest or an empty frame never runs past one bar,
and no note (a melody's, or a key of a piano roll) is held past two bars: there the most likely step
with a (new) note is taken. Greedy draws no random numbers: every seed, and every output, is the same piece.
"""

from __future__ import annotations

import numpy as np
import torch

from genseq.core.options import SamplingOptions
from genseq.model.sampler import Sampler
from genseq.music.encode import FIRST_PITCH_EVENT, HOLD, REST

LONGEST_REST_BARS, LONGEST_NOTE_BARS = 1, 2


class GreedyMelody:
    """The greedy rule over melody events, with each stream's current run of silence and of its note."""

    def __init__(self, bar_steps: int, primer_values: np.ndarray | None, batch: int):
        self.longest_rest, self.longest_note = LONGEST_REST_BARS * bar_steps, LONGEST_NOTE_BARS * bar_steps
        rest_run, note_run, sounding = trailing_melody(primer_values)
        self.started = np.full(batch, primer_values is not None)
        self.rest_run, self.note_run = np.full(batch, rest_run), np.full(batch, note_run)
        self.sounding = np.full(batch, sounding)

    def choose(self, logits: np.ndarray) -> np.ndarray:
        """(B,) events: the most likely kind of step (silence, holding the note, a new note; a new note's
        probability is that of all pitches together), then its most likely event."""
        p = np.exp(logits - logits.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        silence_event = np.where(self.sounding | (p[:, REST] >= p[:, HOLD]), REST, HOLD)  # HOLD after silence is silence
        kinds = np.stack([p[:, REST] + np.where(self.sounding, 0.0, p[:, HOLD]), np.where(self.sounding, p[:, HOLD], -1.0),
                          p[:, FIRST_PITCH_EVENT:].sum(-1)], axis=1)
        kinds[~self.started | (self.rest_run >= self.longest_rest), 0] = -1.0
        kinds[self.note_run >= self.longest_note, 1] = -1.0
        best_note = FIRST_PITCH_EVENT + logits[:, FIRST_PITCH_EVENT:].argmax(-1)
        events = np.choose(kinds.argmax(-1), [silence_event, np.full(len(p), HOLD), best_note])
        self.update(events)
        return events

    def update(self, events: np.ndarray) -> None:
        note, held = events >= FIRST_PITCH_EVENT, (events == HOLD) & self.sounding
        self.sounding = note | held
        self.started |= note
        self.note_run = np.where(note, 1, np.where(held, self.note_run + 1, 0))
        self.rest_run = np.where(self.sounding, 0, self.rest_run + 1)


def trailing_melody(values: np.ndarray | None) -> tuple[int, int, bool]:
    """(rest run, note run, sounding) at the end of a primer's melody events."""
    rest_run = note_run = 0
    sounding = False
    for event in [] if values is None else np.asarray(values).tolist():
        if event >= FIRST_PITCH_EVENT or (event == HOLD and sounding):
            note_run, sounding = (1 if event >= FIRST_PITCH_EVENT else note_run + 1), True
            rest_run = 0
        else:
            rest_run, note_run, sounding = rest_run + 1, 0, False
    return rest_run, note_run, sounding


class GreedyRoll:
    """The greedy rule over piano-roll frames (any number of binary units, with or without a joint head),
    with each stream's run of empty frames and each unit's run of frames on."""

    def __init__(self, bar_steps: int, primer_values: np.ndarray | None, batch: int, units: int, top_k: int | None):
        self.longest_rest, self.longest_note, self.top_k = LONGEST_REST_BARS * bar_steps, LONGEST_NOTE_BARS * bar_steps, top_k
        self.started = np.full(batch, primer_values is not None)
        self.rest_run, self.held_run = np.zeros(batch, dtype=np.int64), np.zeros((batch, units), dtype=np.int64)
        for frame in [] if primer_values is None else np.asarray(primer_values)[:, :units] > 0.5:
            self.update(np.broadcast_to(frame, self.held_run.shape))

    def choose(self, outputs: np.ndarray, joint) -> np.ndarray:
        need_note = ~self.started | (self.rest_run >= self.longest_rest)
        banned = self.held_run >= self.longest_note  # held for as long as a note ever is: let it go
        if joint is None:
            frames = [independent_frame(row, need, ban, self.top_k) for row, need, ban in zip(outputs, need_note, banned)]
        else:
            W, V = joint.numpy_weights()
            frames = [nade_frame(row[:joint.units], row[joint.units:], W, V, need, ban, self.top_k)
                      for row, need, ban in zip(outputs, need_note, banned)]
        frames = np.stack(frames)
        self.update(frames)
        return frames.astype(np.float32)

    def update(self, frames: np.ndarray) -> None:
        sounding = frames.any(-1)
        self.started = self.started | sounding
        self.rest_run = np.where(sounding, 0, self.rest_run + 1)
        self.held_run = np.where(frames, self.held_run + 1, 0)


def independent_frame(logits: np.ndarray, need_note: bool, banned: np.ndarray, top_k: int | None) -> np.ndarray:
    """Independent units: every unit more likely on than off (at most top_k, the likeliest); the likeliest
    if a note is needed and none is. Banned units stay off."""
    logits = np.where(banned, -np.inf, logits)
    order = np.argsort(-logits, kind="stable")[: top_k or len(logits)]
    frame = np.zeros(len(logits), dtype=bool)
    frame[order[logits[order] > 0]] = True
    if need_note and not frame.any() and np.isfinite(logits[order[0]]):
        frame[order[0]] = True
    return frame


def nade_frame(visible_bias: np.ndarray, hidden_bias: np.ndarray, W: np.ndarray, V: np.ndarray, need_note: bool,
               banned: np.ndarray, top_k: int | None) -> np.ndarray:
    """A NADE head's greedy frame, decided one unit that turns on at a time: from unit k on, either no
    further unit is on, or the first further one on is unit j (the ones between off). The likelier of
    those outcomes is taken (exact: while units stay off the hidden layer does not change), until
    stopping is likeliest. If a note is needed, the first unit on is chosen even when an empty frame is
    likelier. Banned units stay off; top_k caps the units on."""
    units = len(visible_bias)
    frame = np.zeros(units, dtype=bool)
    activation, k, cap = hidden_bias.astype(np.float64), 0, top_k or units
    while k < units and frame.sum() < cap:
        logits = visible_bias[k:] + V[k:] @ (1.0 / (1.0 + np.exp(-activation)))
        logits = np.where(banned[k:], -np.inf, logits)
        log_off = -np.logaddexp(0.0, logits)  # log(1 - p) of each unit; log p = logit + log(1 - p)
        first_on = logits + log_off + np.concatenate([[0.0], np.cumsum(log_off)[:-1]])
        j = int(first_on.argmax())
        if not np.isfinite(first_on[j]) or (first_on[j] <= log_off.sum() and not (need_note and not frame.any())):
            break
        k += j
        frame[k] = True
        activation = activation + W[k]
        k += 1
    return frame


class GreedySampler(Sampler):
    """A Sampler whose draw is the greedy music rule (on the torch path, whose last outputs are public)."""

    def __init__(self, model, head: str, options: SamplingOptions, rule):
        super().__init__(model, head, options, fast=False)
        self.rule = rule

    @torch.no_grad()
    def draw(self) -> torch.Tensor:
        if self.outputs is None:
            raise RuntimeError("feed the sampler at least one input step before drawing")
        outputs = self.outputs.float().cpu().numpy()
        if isinstance(self.rule, GreedyMelody):
            return torch.from_numpy(self.rule.choose(outputs).astype(np.int64)).to(self.device)
        return torch.from_numpy(self.rule.choose(outputs, self.model.joint)).to(self.device)


def greedy_sampler(model, encoding, options: SamplingOptions, bar_steps: int, primer_values: np.ndarray | None,
                   batch: int) -> GreedySampler:
    """The sampler for --temperature 0 of a music encoding (primer_values None: an unprimed piece)."""
    if encoding.head == "categorical":
        rule = GreedyMelody(bar_steps, primer_values, batch)
    else:
        rule = GreedyRoll(bar_steps, primer_values, batch, encoding.value_size, options.top_k)
    return GreedySampler(model, encoding.head, options, rule)
