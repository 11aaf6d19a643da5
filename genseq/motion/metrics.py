"""Metrics of motion (pure numpy): freeze detection, kinetic Fréchet distance, diversity, bone-length
error and foot sliding. Every function takes positions (frames, joints, 3) in metres (y up),
valid (frames, joints) and the frame rate; invalid joints never count.

- Windowed joint speed: the mean speed (m/s) over the valid joints and frames of each window;
  a generation that freezes has windows near 0. Its ratio to the median window of real dance
  is the freeze detector (`min_window_speed_ratio`).
- Kinetic features (in the spirit of AIST++'s FID_k): per window and joint, the mean speed,
  the mean acceleration magnitude and the standard deviation of the speed. The Fréchet
  distance between two sets of windows fits a Gaussian to each, after standardising both by
  the reference set's per-feature mean and deviation (as Bailando's evaluation does), with
  the covariance shrunk towards a multiple of the identity so that a few dozen windows give a
  well-conditioned fit.
"""

from __future__ import annotations

import itertools

import numpy as np

WINDOW_SECONDS = 5.0
STRIDE_SECONDS = 1.0
SHRINKAGE = 0.1
CONTACT_MARGIN = 0.03  # metres above a foot point's ground height that still count as touching the ground
GROUND_PERCENTILE = 5.0


def window_frames(fps: float, seconds: float) -> int:
    return max(2, int(round(seconds * fps)))


def window_starts(frames: int, window: int, stride: int) -> np.ndarray:
    """Start frames of the windows of `window` frames every `stride` frames (one window if the clip is shorter)."""
    if frames <= window:
        return np.zeros(1, dtype=np.int64)
    return np.arange(0, frames - window + 1, max(1, stride))


def joint_speeds(positions: np.ndarray, valid: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Speeds (frames-1, joints) in m/s between consecutive frames, and where both frames are valid."""
    positions = np.asarray(positions, dtype=np.float64)
    speed = np.linalg.norm(np.diff(positions, axis=0), axis=-1) * fps
    ok = valid[1:] & valid[:-1]
    return np.where(ok, speed, 0.0), ok


def windowed_mean_speed(positions: np.ndarray, valid: np.ndarray, fps: float, window_seconds: float = WINDOW_SECONDS,
                        stride_seconds: float | None = None) -> np.ndarray:
    """(windows,) mean joint speed of each window (NaN where no joint is valid); stride None: every frame."""
    speed, ok = joint_speeds(positions, valid, fps)
    window = window_frames(fps, window_seconds) - 1  # speeds sit between frames
    stride = 1 if stride_seconds is None else window_frames(fps, stride_seconds)
    totals = np.concatenate([[0.0], np.cumsum(speed.sum(axis=1))])
    counts = np.concatenate([[0.0], np.cumsum(ok.sum(axis=1))])
    starts = window_starts(len(speed), window, stride)
    ends = np.minimum(starts + window, len(speed))
    count = counts[ends] - counts[starts]
    return np.where(count > 0, (totals[ends] - totals[starts]) / np.maximum(count, 1), np.nan)


def min_window_speed_ratio(generated_windows: list[np.ndarray], real_windows: list[np.ndarray]) -> float:
    """Slowest window of all generations over the median window of real motion (1: as lively as typical
    real motion; near 0: frozen)."""
    slowest = np.nanmin(np.concatenate([np.asarray(w, dtype=np.float64) for w in generated_windows]))
    typical = np.nanmedian(np.concatenate([np.asarray(w, dtype=np.float64) for w in real_windows]))
    return float(slowest / typical) if typical > 0 else float("nan")


def kinetic_features(positions: np.ndarray, valid: np.ndarray, fps: float, window_seconds: float = WINDOW_SECONDS,
                     stride_seconds: float = STRIDE_SECONDS) -> np.ndarray:
    """(windows, joints * 3): per joint [mean speed m/s, mean acceleration m/s^2, speed std m/s] of each
    window; NaN for a joint that is not valid throughout the window."""
    positions = np.asarray(positions, dtype=np.float64)
    velocity = np.diff(positions, axis=0) * fps
    speed = np.linalg.norm(velocity, axis=-1)
    acceleration = np.linalg.norm(np.diff(velocity, axis=0), axis=-1) * fps
    window = window_frames(fps, window_seconds)
    rows = []
    for start in window_starts(len(positions), window, window_frames(fps, stride_seconds)):
        end = min(start + window, len(positions))
        whole = valid[start:end].all(axis=0)
        s, a = speed[start:end - 1], acceleration[start:max(start + 1, end - 2)]
        stats = np.stack([s.mean(axis=0), a.mean(axis=0) if len(a) else np.zeros(s.shape[1]), s.std(axis=0)], axis=1)
        stats[~whole] = np.nan
        rows.append(stats.reshape(-1))
    return np.array(rows)


def shared_columns(*sets: np.ndarray) -> np.ndarray:
    """Columns that are finite in every row of every set."""
    return np.logical_and.reduce([np.isfinite(s).all(axis=0) for s in sets])


def standardiser(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = reference.mean(axis=0), reference.std(axis=0)
    return mean, np.where(std > 1e-12, std, 1.0)


def regularised_covariance(features: np.ndarray, shrinkage: float = SHRINKAGE) -> np.ndarray:
    """Sample covariance shrunk towards (trace / d) I: well conditioned with fewer samples than dimensions."""
    dims = features.shape[1]
    covariance = np.cov(features, rowvar=False).reshape(dims, dims) if len(features) > 1 else np.zeros((dims, dims))
    target = np.trace(covariance) / dims * np.eye(dims)
    return (1.0 - shrinkage) * covariance + shrinkage * target


def sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(features: np.ndarray, reference: np.ndarray, shrinkage: float = SHRINKAGE) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature rows, both standardised by the
    reference set: |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2). Columns with NaN are dropped."""
    keep = shared_columns(features, reference)
    a, b = features[:, keep], reference[:, keep]
    mean, std = standardiser(b)
    a, b = (a - mean) / std, (b - mean) / std
    cov_a, cov_b = regularised_covariance(a, shrinkage), regularised_covariance(b, shrinkage)
    root_a = sqrt_psd(cov_a)
    cross = sqrt_psd(root_a @ cov_b @ root_a)
    distance = np.sum((a.mean(axis=0) - b.mean(axis=0)) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(cross)
    return float(max(distance, 0.0))


def diversity(per_sample: list[np.ndarray], reference: np.ndarray) -> float:
    """Mean pairwise Euclidean distance between samples' mean kinetic features (standardised by the
    reference set); 0 when there are fewer than two samples."""
    if len(per_sample) < 2:
        return 0.0
    keep = shared_columns(reference, *per_sample)
    mean, std = standardiser(reference[:, keep])
    centres = [((s[:, keep] - mean) / std).mean(axis=0) for s in per_sample]
    return float(np.mean([np.linalg.norm(a - b) for a, b in itertools.combinations(centres, 2)]))


def bone_length_error(positions: np.ndarray, valid: np.ndarray, bones: list[tuple[int, int]]) -> float:
    """Mean over bones of the relative standard deviation (std / mean) of the bone's length over the frames
    where both ends are valid; 0 for a rigid skeleton. Bones valid in fewer than 2 frames are left out."""
    errors = []
    for a, b in bones:
        both = valid[:, a] & valid[:, b]
        if both.sum() < 2:
            continue
        length = np.linalg.norm(np.asarray(positions[both, a], np.float64) - positions[both, b], axis=-1)
        if length.mean() > 1e-9:
            errors.append(length.std() / length.mean())
    return float(np.mean(errors)) if errors else float("nan")


def foot_sliding(positions: np.ndarray, valid: np.ndarray, fps: float, feet: list[list[int]],
                 margin: float = CONTACT_MARGIN) -> float:
    """Mean horizontal speed (m/s) of feet while they touch the ground. A foot is a group of points
    (ankle, heel, toe); its height is that of its lowest valid point. The ground is the
    GROUND_PERCENTILE-th percentile of all foot heights of the clip, and a foot touches it when it is
    within `margin` of it in two consecutive frames; its speed is then that of its lowest point."""
    positions = np.asarray(positions, dtype=np.float64)
    heights, speeds = [], []
    for points in feet:
        height = np.where(valid[:, points], positions[:, points, 1], np.inf)
        lowest = height.argmin(axis=1)
        step = np.linalg.norm(np.diff(positions[:, points][:, :, [0, 2]], axis=0), axis=-1) * fps
        heights.append(height.min(axis=1))
        speeds.append(step[np.arange(len(step)), lowest[:-1]])
    known = np.concatenate(heights)
    known = known[np.isfinite(known)]
    if not len(known):
        return float("nan")
    ground = np.percentile(known, GROUND_PERCENTILE)
    sliding = []
    for height, speed in zip(heights, speeds):
        contact = height <= ground + margin
        sliding.append(speed[contact[1:] & contact[:-1]])
    joined = np.concatenate(sliding)
    return float(joined.mean()) if len(joined) else float("nan")
