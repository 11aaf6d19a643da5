"""Cleaning per-frame landmark tracks: the One Euro filter and linear filling of short gaps.

Both work on arrays shaped (frames, ...) -- typically positions (frames, joints, 3) -- with an
optional validity mask shaped like the leading axes, e.g. valid (frames, joints).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_SMOOTHING = 0.5


@dataclass(frozen=True)
class OneEuroParams:
    """Parameters of the One Euro filter (Casiez, Roussel and Vogel, CHI 2012).

    min_cutoff: cutoff frequency (Hz) when the signal is still; lower removes more jitter.
    beta: how fast the cutoff rises with speed (Hz per unit/s of the filtered derivative);
        higher means less lag on fast movements. Units matter: this is per metre per second
        for world positions (and per image-width per second for normalised image coordinates).
    d_cutoff: cutoff frequency (Hz) of the low-pass on the derivative that drives beta.
    """

    min_cutoff: float = 1.0
    beta: float = 10.0
    d_cutoff: float = 1.0


def smoothing_params(smoothing: float) -> OneEuroParams | None:
    """Map one user-facing strength in [0, 1] to One Euro parameters (None: no filtering).

    0 turns the filter off: the raw per-frame estimates. The default 0.5 is a 1 Hz cutoff at
    rest with beta 10 per m/s (about 11 Hz, a lag near 0.3 frame at 30 fps, for a joint moving
    at 1 m/s): it cuts the frame-to-frame jitter of mediapipe on a still subject about fourfold
    while movement keeps its timing. 1 is the strongest, for nearly still subjects: 0.1 Hz at
    rest and beta 3.3, so fast moves lag almost a frame. In between both fall geometrically:
    min_cutoff = 10 Hz * 100 ** -smoothing, beta = 30 * 9 ** -smoothing; d_cutoff stays 1 Hz.
    """
    if not 0.0 <= smoothing <= 1.0:  # also rejects NaN
        raise ValueError(f"smoothing must be between 0 and 1, got {smoothing}")
    if smoothing == 0.0:
        return None
    return OneEuroParams(min_cutoff=10.0 * 100.0 ** -smoothing, beta=30.0 * 9.0 ** -smoothing, d_cutoff=1.0)


def smoothing_factor(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    """The exponential smoothing weight of a first-order low-pass at `cutoff` Hz, sampled every dt s."""
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


def expand_mask(valid: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """A validity mask over the leading axes of `shape`, broadcast to the full shape (all True if None)."""
    if valid is None:
        return np.ones(shape, dtype=bool)
    valid = np.asarray(valid, dtype=bool)
    if valid.shape != shape[: valid.ndim]:
        raise ValueError(f"mask shape {valid.shape} does not match the leading axes of {shape}")
    return np.broadcast_to(valid.reshape(valid.shape + (1,) * (len(shape) - valid.ndim)), shape)


def one_euro(values: np.ndarray, fps: float, params: OneEuroParams, valid: np.ndarray | None = None) -> np.ndarray:
    """Filter `values` (frames, ...) along the frame axis, every other element independently.

    Where `valid` is False a sample passes through unchanged and its filter restarts at the
    next valid sample, so a track never drags a stale value across a gap.
    """
    values = np.asarray(values, dtype=np.float64)
    mask = expand_mask(valid, values.shape)
    out = values.copy()
    if len(values) == 0:
        return out
    dt = 1.0 / fps
    alpha_d = smoothing_factor(params.d_cutoff, dt)
    previous = values[0].copy()
    speed = np.zeros_like(previous)
    fresh = ~mask[0]  # elements whose filter (re)starts at their next valid sample
    for frame in range(1, len(values)):
        x, ok = values[frame], mask[frame]
        start = ok & fresh
        derivative = (x - previous) / dt
        speed = np.where(start, 0.0, speed + alpha_d * (derivative - speed))
        alpha = smoothing_factor(params.min_cutoff + params.beta * np.abs(speed), dt)
        filtered = np.where(start, x, previous + alpha * (x - previous))
        out[frame] = np.where(ok, filtered, x)
        previous = np.where(ok, filtered, previous)
        fresh = ~ok
    return out


def interpolate_gaps(values: np.ndarray, valid: np.ndarray, max_gap_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Fill runs of at most `max_gap_frames` invalid frames per joint linearly; return (values, valid).

    values: (frames, joints, ...); valid: (frames, joints). Only gaps with a valid frame on
    both sides are filled (and then marked valid); longer gaps and the invalid frames before
    the first or after the last valid frame of a joint are left as they are, still invalid.
    """
    values = np.array(values, copy=True)
    valid = np.array(valid, dtype=bool, copy=True)
    if valid.shape != values.shape[:2]:
        raise ValueError(f"valid must be (frames, joints) = {values.shape[:2]}, got {valid.shape}")
    if max_gap_frames <= 0:
        return values, valid
    for joint in range(valid.shape[1]):
        known = np.flatnonzero(valid[:, joint])
        missing = np.flatnonzero(~valid[:, joint])
        if len(known) < 2 or len(missing) == 0:
            continue
        after = np.searchsorted(known, missing)
        inside = (after > 0) & (after < len(known))
        missing, after = missing[inside], after[inside]
        before_frame, after_frame = known[after - 1], known[after]
        short = after_frame - before_frame - 1 <= max_gap_frames
        missing, before_frame, after_frame = missing[short], before_frame[short], after_frame[short]
        weight = ((missing - before_frame) / (after_frame - before_frame)).reshape((-1,) + (1,) * (values.ndim - 2))
        start, end = values[before_frame, joint], values[after_frame, joint]
        values[missing, joint] = start + weight * (end - start)
        valid[missing, joint] = True
    return values, valid


def gaussian_smooth(values: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Zero-phase Gaussian low-pass of (frames, ...) along the frame axis (sigma in frames; 0: unchanged);
    the ends are padded with their own first and last frame, so a clip keeps its length and its ends."""
    values = np.asarray(values, dtype=np.float64)
    if sigma_frames <= 0 or len(values) < 2:
        return values
    radius = int(np.ceil(3 * sigma_frames))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    kernel /= kernel.sum()
    padded = np.concatenate([np.repeat(values[:1], radius, axis=0), values, np.repeat(values[-1:], radius, axis=0)])
    flat = padded.reshape(len(padded), -1)
    out = np.stack([np.convolve(flat[:, k], kernel, mode="valid") for k in range(flat.shape[1])], axis=1)
    return out.reshape(values.shape)
