"""Sampling a piece step by step with two controls beside the draw's own (bench/music_samples.py chose
the defaults):

- a state window: `genseq train` shows the model windows of train.seq_len steps, each from a zero state
  (genseq.model.train.make_windows), so a state fed more steps than that is one it never saw in
  training (a 64-bar piece at 4 steps a quarter is 8 of the piano roll's 128-step windows). Once the
  state would hold more than `window` inputs, it is rebuilt from zero by feeding the last `keep`
  inputs again: like a training window, it never holds more than `window` steps.
- epsilon, top_p: a joint head's step drawn with epsilon truncation or each jump's nucleus (genseq.music.joint_draw).
- candidates: each piece is drawn as `candidates` streams; at every bar line the stream whose last bar
  the model gives the highest likelihood is kept and copied over the others of its piece (their
  states rebuilt from the kept inputs), so a bar the model finds unlikely is dropped.

With neither (window None, one candidate) it is the sampler's own loop (genseq.model.sampler.sample_continuations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from genseq.model.sampler import ActiveInputs, Sampler

Score = Callable[[torch.Tensor, torch.Tensor], np.ndarray]  # (outputs (B, O), drawn values) -> log-likelihood (B,)


@dataclass(frozen=True)
class PieceControls:
    window: int | None = None  # most inputs the state holds; None: never rebuilt
    keep: int | None = None  # inputs fed again when rebuilt (default: half the window)
    candidates: int = 1  # streams drawn per piece, the likeliest kept at each bar line
    primer_lead_in: bool = True  # a primer follows the encoding's lead-in (START), as every training piece does
    epsilon: float = 0.0  # a joint head's unit less likely than this is not drawn (genseq.music.joint_draw)
    top_p: float | None = None  # a joint head's jumps drawn from their nucleus (genseq.music.joint_draw.jump_nucleus)

    @property
    def kept(self) -> int:
        return self.keep or max(1, (self.window or 2) // 2)

    @property
    def active(self) -> bool:
        return self.window is not None or self.candidates > 1 or self.own_draw

    @property
    def own_draw(self) -> bool:
        """A joint head's step is drawn by genseq.music.joint_draw, not the sampler."""
        return self.epsilon > 0 or (self.top_p is not None and self.top_p < 1.0)


def trained_window(loaded) -> int:
    """The longest window the model was trained on (its config's train.seq_len)."""
    return int(loaded.payload.get("config", {}).get("train", {}).get("seq_len", 128))


def joint_score(model) -> Score:
    """Log-likelihood of each stream's drawn step under a joint (NADE) head, at temperature 1."""
    def score(outputs: torch.Tensor, drawn: torch.Tensor) -> np.ndarray:
        drawn = drawn.float()
        with torch.no_grad():
            logits = model.joint.logits(outputs.float(), drawn)
            return -F.binary_cross_entropy_with_logits(logits, drawn, reduction="none").sum(-1).numpy()
    return score


def dense_row(row, size: int) -> np.ndarray:
    row = row.dense(size) if isinstance(row, ActiveInputs) else row
    return row.detach().cpu().numpy().astype(np.float32) if isinstance(row, torch.Tensor) else np.asarray(row, np.float32)


def sample_long_form(sampler: Sampler, primer_inputs: np.ndarray, next_input, steps: int, num_outputs: int,
                     controls: PieceControls, bar_starts: np.ndarray, score: Score | None = None,
                     progress: Callable[[int], None] | None = None,
                     draw: Callable[[int], torch.Tensor] | None = None) -> torch.Tensor:
    """(num_outputs, steps, ...) values continuing one (T0, F) primer, as sample_continuations gives them,
    under `controls`. bar_starts[i]: sampled step i starts a bar (where candidates are chosen between).
    draw(index): sampled step `index` from the sampler's outputs (default: sampler.draw())."""
    per_piece = max(1, controls.candidates)
    batch = num_outputs * per_piece
    primer = np.asarray(primer_inputs, dtype=np.float32)
    history = np.zeros((batch, len(primer) + steps, primer.shape[-1]), dtype=np.float32)
    history[:, : len(primer)] = primer
    fed, in_state = len(primer), len(primer)
    sampler.feed(torch.from_numpy(history[:, :fed].copy()))
    values, bar_score = None, np.zeros(batch)
    for index in range(steps):
        outputs = sampler.outputs if per_piece > 1 else None
        value = sampler.draw() if draw is None else draw(index)
        if values is None:
            values = np.zeros((batch, steps, *value.shape[1:]), dtype=value.cpu().numpy().dtype)
        values[:, index] = value.cpu().numpy()
        if per_piece > 1:
            bar_score += score(outputs, value)
        if progress:
            progress(index + 1)
        if index + 1 == steps:
            break
        row = next_input(value, index)
        history[:, fed] = dense_row(row, primer.shape[-1])
        fed += 1
        rebuild = controls.window is not None and in_state + 1 > controls.window
        if per_piece > 1 and bar_starts[index + 1]:
            chosen = np.repeat(likeliest(bar_score, num_outputs, per_piece), per_piece)
            history[:, :fed], values[:, : index + 1] = history[chosen, :fed], values[chosen, : index + 1]
            bar_score[:], rebuild = 0.0, True
        if rebuild:
            kept = min(fed, controls.kept)
            sampler.reset()
            sampler.feed(torch.from_numpy(history[:, fed - kept : fed].copy()))
            in_state = kept
        else:
            sampler.feed(row)
            in_state += 1
    return torch.from_numpy(values[likeliest(bar_score, num_outputs, per_piece)])


def likeliest(scores: np.ndarray, num_outputs: int, per_piece: int) -> np.ndarray:
    """The row of each piece's likeliest candidate."""
    return scores.reshape(num_outputs, per_piece).argmax(1) + np.arange(num_outputs) * per_piece
