"""Per-window kinematic statistics of motion, and how far one set of windows is from another.

Every statistic is measured per window (5 s every 1 s by default), so a generation is compared
with real motion window by window: the real windows give a mean and a standard deviation, and a
generation's distance is |generated mean - real mean| / real sd.

- pose_speed, acceleration, jerk: mean magnitude of the first, second and third time derivative
  of the joints relative to the hip midpoint in the body's heading frame (m/s, m/s^2, m/s^3);
  the pose alone, so walking about does not count and frame-to-frame shaking does (it inflates
  acceleration and jerk much more than speed).
- speed_variation: how much the pose speed varies within the window: the standard deviation of
  the per-frame pose speed (mean over the joints) over its mean (a dance of one even energy has
  little; accents, pauses and bursts give more).
- wrist_speed: the same speed for the two wrists only.
- foot_sliding: horizontal speed of a foot's lowest point while it touches the ground
  (metrics.foot_sliding over the window's world positions).
- root_speed: horizontal speed of the hip midpoint in the world (m/s).
- body_extent: mean distance of the joints from the hip midpoint (m).

Spread: besides the distance of the means, each statistic's sd across the generated windows over
the sd across the real windows (`spread_ratio`): a model that dances one average dance at one
average energy has the right means and too small a spread.

Novelty: each window as its pose (local positions) every few frames, flattened; the distance of
a generated window to its nearest training window, against that of real held-out windows.
"""

from __future__ import annotations

import numpy as np

from genseq.motion import metrics

STATISTICS = ("pose_speed", "acceleration", "jerk", "speed_variation", "wrist_speed", "foot_sliding", "root_speed",
              "body_extent")


def _differences(values: np.ndarray, valid: np.ndarray, order: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude (frames - order, joints) of the order-th time derivative and where it is defined."""
    change, ok = np.asarray(values, dtype=np.float64), np.asarray(valid, dtype=bool)
    for _ in range(order):
        change, ok = np.diff(change, axis=0) * fps, ok[1:] & ok[:-1]
    return np.where(ok, np.linalg.norm(change, axis=-1), 0.0), ok


def _window_means(values: np.ndarray, ok: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    """Mean of values (frames, joints) over the ok entries of each window [start, start + window)."""
    totals = np.concatenate([[0.0], np.cumsum(values.sum(axis=1))])
    counts = np.concatenate([[0.0], np.cumsum(ok.sum(axis=1))])
    ends = np.minimum(starts + window, len(values))
    count = counts[ends] - counts[starts]
    return np.where(count > 0, (totals[ends] - totals[starts]) / np.maximum(count, 1), np.nan)


def window_statistics(local: np.ndarray, world: np.ndarray, valid: np.ndarray, fps: float, wrists: list[int],
                      feet: list[list[int]], root: np.ndarray, window_seconds: float = metrics.WINDOW_SECONDS,
                      stride_seconds: float = metrics.STRIDE_SECONDS) -> dict[str, np.ndarray]:
    """{statistic: (windows,)} for one clip. local: (frames, joints, 3) positions relative to the hip
    midpoint in the heading frame; world: (frames, joints, 3); root: (frames, 3) hip midpoints."""
    window = metrics.window_frames(fps, window_seconds)
    starts = metrics.window_starts(len(local), window, metrics.window_frames(fps, stride_seconds))
    out = {}
    for name, order in (("pose_speed", 1), ("acceleration", 2), ("jerk", 3)):
        values, ok = _differences(local, valid, order, fps)
        out[name] = _window_means(values, ok, starts, window - order)
    out["speed_variation"] = _speed_variation(local, valid, fps, starts, window - 1)
    values, ok = _differences(local[:, wrists], valid[:, wrists], 1, fps)
    out["wrist_speed"] = _window_means(values, ok, starts, window - 1)
    out["foot_sliding"] = np.array([metrics.foot_sliding(world[s:s + window], valid[s:s + window], fps, feet)
                                    for s in starts])
    ground = np.asarray(root, dtype=np.float64)[:, [0, 2]]
    step = np.linalg.norm(np.diff(ground, axis=0), axis=-1)[:, None] * fps
    out["root_speed"] = _window_means(step, np.ones_like(step, dtype=bool), starts, window - 1)
    extent = np.where(valid, np.linalg.norm(local, axis=-1), 0.0)
    out["body_extent"] = _window_means(extent, np.asarray(valid, dtype=bool), starts, window)
    return out


def _speed_variation(local: np.ndarray, valid: np.ndarray, fps: float, starts: np.ndarray, window: int) -> np.ndarray:
    """(windows,) sd over mean of the per-frame pose speed (the mean speed of the valid joints) in each window."""
    values, ok = _differences(local, valid, 1, fps)
    count = ok.sum(axis=1)
    frame_speed = np.where(count > 0, values.sum(axis=1) / np.maximum(count, 1), np.nan)
    out = []
    for start in starts:
        speeds = frame_speed[start:start + window]
        speeds = speeds[np.isfinite(speeds)]
        out.append(speeds.std() / speeds.mean() if len(speeds) > 1 and speeds.mean() > 0 else np.nan)
    return np.array(out)


def pooled(per_clip: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The windows of several clips, statistic by statistic."""
    return {name: np.concatenate([clip[name] for clip in per_clip]) for name in STATISTICS}


def describe(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the finite values."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return (float(values.mean()), float(values.std())) if len(values) else (float("nan"), float("nan"))


def statistic_table(generated: dict[str, np.ndarray], real: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per statistic: real and generated mean and sd, the distance of the means in real sd, and the
    spread ratio (generated sd over real sd)."""
    table = {}
    for name in STATISTICS:
        (real_mean, real_sd), (mean, sd) = describe(real[name]), describe(generated[name])
        table[name] = {"real_mean": real_mean, "real_sd": real_sd, "generated_mean": mean, "generated_sd": sd,
                       "distance_sd": abs(mean - real_mean) / real_sd if real_sd > 0 else float("nan"),
                       "spread_ratio": sd / real_sd if real_sd > 0 else float("nan")}
    return table


def worst_distance(table: dict[str, dict]) -> float:
    return float(max(row["distance_sd"] for row in table.values()))


def narrowest_spread(table: dict[str, dict]) -> float:
    """The smallest spread ratio of the table: every statistic spreads at least this much as real does."""
    return float(min(row["spread_ratio"] for row in table.values()))


def pose_windows(local: np.ndarray, fps: float, every: int = 10, window_seconds: float = metrics.WINDOW_SECONDS,
                 stride_frames: int | None = None) -> np.ndarray:
    """(windows, samples * joints * 3) each window's local pose every `every` frames, flattened."""
    window = metrics.window_frames(fps, window_seconds)
    stride = stride_frames or metrics.window_frames(fps, metrics.STRIDE_SECONDS)
    starts = metrics.window_starts(len(local), window, stride)
    return np.stack([np.asarray(local[s:s + window:every], np.float32).reshape(-1) for s in starts
                     if s + window <= len(local)])


def nearest_distances(queries: np.ndarray, keys: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Euclidean distance from each query row to its nearest key row, per joint and sample (RMS, m)."""
    keys = np.asarray(keys, dtype=np.float32)
    key_norms = (keys ** 2).sum(axis=1)
    out = []
    for start in range(0, len(queries), chunk):
        q = np.asarray(queries[start:start + chunk], dtype=np.float32)
        squared = (q ** 2).sum(axis=1)[:, None] + key_norms[None, :] - 2.0 * q @ keys.T
        out.append(np.sqrt(np.maximum(squared.min(axis=1), 0.0) / (q.shape[1] / 3)))
    return np.concatenate(out) if out else np.zeros(0)
