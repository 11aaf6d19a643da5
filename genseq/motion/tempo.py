"""Tempo augmentation: a clip's features played slower or faster (issue 20), so the model sees each
dance at more tempi than it was recorded at (a slow song needs slow dancing).

Stretching by `factor` (> 1: slower, more frames) interpolates every feature in time; the features
that are per-frame changes (the root's ground velocity, the heading change and, when present, the
joint velocities) are divided by the factor, since each new frame covers 1/factor of an old one.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from genseq.core.motion import interpolate_frames
from genseq.motion.encode import MotionFeatures, ROOT_SIZE

PER_FRAME_ROOT = (0, 1, 3)  # root velocity lateral, forward, heading change (not the root height)


def rate_columns(joint_size: int, value_size: int) -> np.ndarray:
    """The columns of a frame that are changes per frame (they scale with 1/factor)."""
    root = joint_size + np.array(PER_FRAME_ROOT)
    velocities = np.arange(joint_size + ROOT_SIZE, value_size)  # the optional joint velocities
    return np.concatenate([root, velocities])


def time_stretched(features: MotionFeatures, factor: float, joint_size: int) -> MotionFeatures:
    """The features at `factor` times the duration (linear interpolation, genseq.core.motion's; a value
    is known where both of its neighbours are, or where it falls on a known frame)."""
    values, mask = features.values, features.mask
    frames = len(values)
    new_frames = max(2, int(round(frames * factor)))
    if new_frames == frames or frames < 2:
        return features
    where = np.linspace(0.0, frames - 1.0, new_frames)
    stretched = interpolate_frames(values.astype(np.float32), where)
    known = interpolate_frames(mask.astype(np.float32), where) > 1.0 - 1e-6
    columns = rate_columns(joint_size, values.shape[1])
    stretched[:, columns] /= factor
    return dataclasses.replace(features, values=stretched.astype(np.float32), mask=known)


def random_factors(rng: np.random.Generator, count: int, low: float, high: float) -> np.ndarray:
    """`count` factors log-uniform in [low, high] (as many slower as faster)."""
    if high <= low:
        return np.full(count, low)
    return np.exp(rng.uniform(np.log(low), np.log(high), count))
