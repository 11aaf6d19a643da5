"""The source video beside a rendered picture (`render dance --side-by-side`): its frames, resized to
the picture's height and picked by time, left of each picture."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from genseq.core.errors import GenseqError



class SourceVideo:
    """Frames of a video file, resized to a given height, picked by time (the last frame holds at the end)."""

    def __init__(self, path: str | Path, height: int):
        self.path = Path(path)
        if not self.path.is_file():
            raise GenseqError("no such video file (for side by side)", self.path)
        self.capture = cv2.VideoCapture(str(self.path))
        ok, first = self.capture.read() if self.capture.isOpened() else (False, None)
        if not ok:
            self.capture.release()
            raise GenseqError("cannot decode video (for side by side)", self.path)
        self.fps = self.capture.get(cv2.CAP_PROP_FPS) or 0.0
        self.height = height
        self.width = 2 * max(1, round(first.shape[1] * height / first.shape[0] / 2))  # even, for yuv420p
        self.index = 0
        self.current = self.resize(first)

    def resize(self, frame: np.ndarray) -> np.ndarray:
        return cv2.resize(frame, (self.width, self.height), interpolation=cv2.INTER_AREA)

    def frame_at(self, seconds: float, fallback_fps: float) -> np.ndarray:
        wanted = int(round(seconds * (self.fps if self.fps > 0 else fallback_fps)))
        while self.index < wanted:
            ok, frame = self.capture.read()
            if not ok:
                break
            self.index += 1
            if self.index >= wanted:
                self.current = self.resize(frame)
        return self.current

    def close(self) -> None:
        self.capture.release()


def beside_source(frames: Iterator[np.ndarray], source: SourceVideo, fps: float) -> Iterator[np.ndarray]:
    """The source video's frame left of each skeleton picture (one reused array)."""
    both = None
    for number, skeleton in enumerate(frames):
        if both is None:
            both = np.empty((skeleton.shape[0], source.width + skeleton.shape[1], 3), dtype=np.uint8)
        both[:, :source.width] = source.frame_at(number / fps, fps)
        both[:, source.width:] = skeleton
        yield both
