"""The cover picture (thumbnail) written beside a dance video: one frame of it, the most open pose."""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np

from genseq.core.atomic import atomic_write_bytes
from genseq.core.errors import GenseqError
from genseq.core.motion import MotionClip

COVER_SUFFIX = ".jpg"
JPEG_QUALITY = 90


def cover_path(video: str | Path) -> Path:
    """Where the cover of a video goes: beside it, same name, .jpg."""
    return Path(video).with_suffix(COVER_SUFFIX)


def cover_frame(clip: MotionClip) -> int:
    """The clip frame of the cover: the most open pose (widest spread of the valid joints) in the middle 80%."""
    xy = np.where(clip.valid[..., None], clip.positions[..., :2], np.nan)
    with np.errstate(invalid="ignore"):
        spread = np.nan_to_num(np.nanmax(xy, axis=1) - np.nanmin(xy, axis=1)).prod(axis=1) if clip.valid.any() else None
    if spread is None:
        return clip.num_frames // 2
    low, high = int(clip.num_frames * 0.1), max(int(clip.num_frames * 0.9), int(clip.num_frames * 0.1) + 1)
    return low + int(np.argmax(spread[low:high]))


def write_cover(clip: MotionClip, path: str | Path, size, look: dict) -> Path:
    """A JPEG of one frame of the video (cover_frame), atomically."""
    from genseq.motion.render import picture_frames, without_stick_colours

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames in cover_frame
        index = cover_frame(clip)
    picture = next(iter(picture_frames(clip, size, picks=np.array([index]), **without_stick_colours(look))))
    ok, encoded = cv2.imencode(COVER_SUFFIX, picture, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise GenseqError("could not encode the cover picture", path)
    atomic_write_bytes(Path(path), encoded.tobytes())
    return Path(path)
