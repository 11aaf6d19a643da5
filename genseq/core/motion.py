"""MotionClip: the one interchange type of the motion path.

positions: (frames, joints, 3) float32 world coordinates in metres (y up, hip-centred for
video; BVH keeps its root trajectory); valid: (frames, joints) bool, False where a joint is
missing (out of frame, not detected, or absent from the source skeleton); fps; joint_names.
image_positions, when the source is a video: (frames, joints, 3) normalised image x, y and
visibility. The .npz format is plain arrays (no pickles): positions, valid, fps, joint_names
(and image_positions when present).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genseq.core.atomic import atomic_path
from genseq.core.errors import GenseqError


def interpolate_frames(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    """(frames, ...) values linearly interpolated at fractional frame positions `where` (clamped to the
    clip), in the values' own float type: the one resampling of motion (frame rates, time warps)."""
    frames = len(values)
    where = np.clip(np.asarray(where, dtype=np.float64), 0, frames - 1)
    before = np.minimum(np.floor(where).astype(np.int64), max(frames - 2, 0))
    after = np.minimum(before + 1, frames - 1)
    weight = (where - before).reshape((-1,) + (1,) * (values.ndim - 1))
    if np.issubdtype(values.dtype, np.floating):
        weight = weight.astype(values.dtype)
    return values[before] * (1 - weight) + values[after] * weight


@dataclass
class MotionClip:
    positions: np.ndarray
    valid: np.ndarray
    fps: float
    joint_names: list[str]
    image_positions: np.ndarray | None = None
    name: str = ""

    def __post_init__(self) -> None:
        self.positions = np.asarray(self.positions, dtype=np.float32)
        self.valid = np.asarray(self.valid, dtype=bool)
        if self.positions.ndim != 3 or self.positions.shape[2] != 3:
            raise ValueError(f"positions must be (frames, joints, 3), got {self.positions.shape}")
        if self.valid.shape != self.positions.shape[:2]:
            raise ValueError(f"valid must be (frames, joints) = {self.positions.shape[:2]}, got {self.valid.shape}")
        if len(self.joint_names) != self.positions.shape[1]:
            raise ValueError(f"{len(self.joint_names)} joint names for {self.positions.shape[1]} joints")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"frame rate must be a positive number, got {self.fps}")
        # a position that is not a number is a missing joint, not a pose to learn or draw
        self.valid = self.valid & np.isfinite(self.positions).all(axis=2)

    @property
    def num_frames(self) -> int:
        return self.positions.shape[0]

    @property
    def seconds(self) -> float:
        return self.num_frames / self.fps


def save_clip(clip: MotionClip, path: str | Path) -> Path:
    arrays = {"positions": clip.positions, "valid": clip.valid, "fps": np.float64(clip.fps),
              "joint_names": np.array(clip.joint_names, dtype=np.str_)}
    if clip.image_positions is not None:
        arrays["image_positions"] = np.asarray(clip.image_positions, dtype=np.float32)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
    return Path(path)


def load_clip(path: str | Path) -> MotionClip:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {"positions", "valid", "fps", "joint_names"} - set(data.files)
            if missing:
                raise GenseqError(f"not a motion clip file (missing {', '.join(sorted(missing))})", path)
            return MotionClip(data["positions"], data["valid"], float(data["fps"]), [str(n) for n in data["joint_names"]],
                              data["image_positions"] if "image_positions" in data.files else None, path.stem)
    except IsADirectoryError:
        raise GenseqError("is a folder, not a motion clip file", path) from None
    except (OSError, ValueError, EOFError, TypeError, KeyError, IndexError, zipfile.BadZipFile) as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise GenseqError(f"cannot read motion clip ({reason})", path) from None


def require_valid_joints(clip: MotionClip, source: str | Path | None = None) -> MotionClip:
    """A clip with at least one joint position known; else one GenseqError (nothing to learn or draw)."""
    if clip.num_frames == 0:
        raise GenseqError("motion clip has no frames", source)
    if not clip.valid.any():
        raise GenseqError("motion clip has no valid joint position (all missing or not a number)", source)
    return clip
