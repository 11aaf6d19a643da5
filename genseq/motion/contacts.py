"""Foot locking: a foot that touches the ground stays where it touched it (EDGE's contact consistency,
done after sampling instead of in training).

A foot is its ankle, heel and toe (the valid ones). It touches the ground when its lowest point is
within `margin` of the ground (the GROUND_PERCENTILE-th percentile of all foot heights of the
clip: the definition `metrics.foot_sliding` measures by). While it does, the whole foot is shifted
on the ground plane so that its lowest point stays put (when another point becomes the lowest, the
shift carries on from there); after the contact the shift fades out over `release` frames. The
leg follows by two-bone inverse kinematics: the hip stays, the knee bends in the plane of the
original knee, thigh and shin keep their lengths.

Before that the body is put on the floor (`ground_body`): a generated dance drifts up and down by a
few centimetres over seconds (its root height is sampled frame by frame), so over a stretch where
it floats no foot comes within `margin` of the clip's ground and none is held, while the feet
still slide on the floor that stretch itself shows (metrics.foot_sliding measured over a 5 s
window finds its own ground). The whole body is moved vertically so that the ground of every
stretch (the GROUND_PERCENTILE-th percentile of its foot heights over GROUND_WINDOW_SECONDS,
smoothed) is the clip's median ground. Real motion capture has one floor: it is hardly moved.

A held foot is not nailed down: generation lets it follow FOOT_SLIP of its own motion, as a real
foot pivots on its ball or glides (held completely, the feet of a dance slide half as much as a
dancer's do by metrics.foot_sliding's measure).
"""

from __future__ import annotations

import numpy as np

from genseq.motion.filters import gaussian_smooth
from genseq.motion.metrics import CONTACT_MARGIN, GROUND_PERCENTILE, WINDOW_SECONDS
from genseq.motion.skeleton import INDEX

RELEASE_FRAMES = 4
GROUND_WINDOW_SECONDS = WINDOW_SECONDS  # the stretch whose floor the body is put on
GROUND_SMOOTHING_SECONDS = 0.5          # sd of the Gaussian that smooths the vertical correction
FOOT_SLIP = 0.2  # generation's slip: real dancers pivot and glide (0.34 m/s by metrics.foot_sliding on the training
                 # clips); 0.2 gives the same on dances from training-clip primers (held-out clips not used)
SIDES = ("left", "right")


def foot_points(side: str) -> list[int]:
    return [INDEX[f"{side}_{part}"] for part in ("ankle", "heel", "foot_index")]


def foot_heights(positions: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(frames, 2) height of each foot's lowest valid point (inf where it has none)."""
    return np.stack([np.where(valid[:, points], positions[:, points, 1], np.inf).min(axis=1)
                     for points in map(foot_points, SIDES)], axis=1)


def ground_height(positions: np.ndarray, valid: np.ndarray) -> float | None:
    known = foot_heights(positions, valid).reshape(-1)
    known = known[np.isfinite(known)]
    return float(np.percentile(known, GROUND_PERCENTILE)) if len(known) else None


def running_ground(positions: np.ndarray, valid: np.ndarray, fps: float) -> np.ndarray | None:
    """(frames,) the ground of the stretch around each frame: the GROUND_PERCENTILE-th percentile of
    the foot heights within GROUND_WINDOW_SECONDS centred on it (None: no foot is ever valid)."""
    heights = foot_heights(positions, valid)
    if not np.isfinite(heights).any():
        return None
    half = max(1, round(GROUND_WINDOW_SECONDS * fps / 2))
    out = np.empty(len(heights))
    for t in range(len(heights)):
        near = heights[max(0, t - half):t + half + 1].reshape(-1)
        near = near[np.isfinite(near)]
        out[t] = np.percentile(near, GROUND_PERCENTILE) if len(near) else np.nan
    known = np.isfinite(out)
    return np.interp(np.arange(len(out)), np.flatnonzero(known), out[known])


def ground_body(positions: np.ndarray, valid: np.ndarray, fps: float) -> np.ndarray:
    """World positions moved vertically, frame by frame, so that every stretch stands on the clip's
    median ground (module docstring)."""
    out = np.asarray(positions, dtype=np.float64).copy()
    ground = running_ground(out, valid, fps)
    if ground is None:
        return out
    correction = gaussian_smooth((np.median(ground) - ground)[:, None], GROUND_SMOOTHING_SECONDS * fps)[:, 0]
    out[:, :, 1] += correction[:, None]
    return out


def contact_shifts(positions: np.ndarray, valid: np.ndarray, points: list[int], ground: float, margin: float,
                   release: int, slip: float = 0.0) -> np.ndarray:
    """(frames, 2) ground-plane shift (x, z) of one foot that keeps its lowest point still during contacts
    (with `slip`, it follows that fraction of the foot's own motion: a pivot, a glide)."""
    frames = len(positions)
    height = np.where(valid[:, points], positions[:, points, 1], np.inf)
    lowest = height.argmin(axis=1)
    contact = height.min(axis=1) <= ground + margin
    where = positions[np.arange(frames), np.array(points)[lowest]][:, [0, 2]]
    shifts = np.zeros((frames, 2))
    anchor, held, since = np.zeros(2), np.zeros(2), release + 1
    for t in range(frames):
        previous = shifts[t - 1] if t else np.zeros(2)
        if contact[t]:
            if t == 0 or not contact[t - 1] or lowest[t] != lowest[t - 1]:
                anchor = where[t] + previous  # the shift carries on from the frame before
            else:
                anchor = anchor + slip * (where[t] - where[t - 1])
            shifts[t] = held = anchor - where[t]
            since = 0
        else:
            since += 1
            shifts[t] = held * max(0.0, 1.0 - since / (release + 1))
    return shifts


def bend_knee(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-bone IK (frames, 3): the knee and the ankle reached from the hip towards `target`, thigh and shin
    as long as before, the knee in the plane of hip, target and the old knee."""
    thigh = np.linalg.norm(knee - hip, axis=-1, keepdims=True)
    shin = np.linalg.norm(ankle - knee, axis=-1, keepdims=True)
    reach = target - hip
    distance = np.linalg.norm(reach, axis=-1, keepdims=True)
    clipped = np.clip(distance, np.abs(thigh - shin) + 1e-4, thigh + shin - 1e-4)
    along = reach / np.maximum(distance, 1e-9)
    ankle_new = hip + along * clipped
    pole = (knee - hip) - ((knee - hip) * along).sum(-1, keepdims=True) * along
    pole /= np.maximum(np.linalg.norm(pole, axis=-1, keepdims=True), 1e-9)
    cos = np.clip((thigh ** 2 + clipped ** 2 - shin ** 2) / np.maximum(2 * thigh * clipped, 1e-9), -1.0, 1.0)
    knee_new = hip + thigh * (cos * along + np.sqrt(1.0 - cos ** 2) * pole)
    return knee_new, ankle_new


def lock_feet(positions: np.ndarray, valid: np.ndarray, margin: float = CONTACT_MARGIN,
              release: int = RELEASE_FRAMES, fps: float | None = None, slip: float = 0.0) -> np.ndarray:
    """World positions (frames, 33, 3) with planted feet held still and the legs bent to follow; with
    `fps`, the body first put on the floor (ground_body)."""
    out = np.asarray(positions, dtype=np.float64).copy()
    if fps:
        out = ground_body(out, valid, fps)
    ground = ground_height(out, valid)
    if ground is None:
        return out.astype(np.float32)
    for side in SIDES:
        points = foot_points(side)
        hip, knee, ankle = (INDEX[f"{side}_{part}"] for part in ("hip", "knee", "ankle"))
        chain = valid[:, [hip, knee, ankle]].all(axis=1)
        shifts = contact_shifts(out, valid, points, ground, margin, release, slip)
        moved = chain & (np.abs(shifts).sum(axis=1) > 1e-9)
        if not moved.any():
            continue
        target = out[moved, ankle].copy()
        target[:, [0, 2]] += shifts[moved]
        knee_new, ankle_new = bend_knee(out[moved, hip], out[moved, knee], out[moved, ankle], target)
        step = ankle_new - out[moved, ankle]
        out[np.flatnonzero(moved)[:, None], np.array(points)[None, :]] += step[:, None, :]
        out[moved, knee] = knee_new
    return out.astype(np.float32)
