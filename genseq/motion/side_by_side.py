"""Other pictures in a dance video: the source video beside it (`render dance --side-by-side`: its frames
resized to the picture's height, picked by time, left of each picture), and a picture or a video behind
the dancer (`--background`: scaled to cover the frame and cut to it; a shorter video loops)."""

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


def fill_frame(picture: np.ndarray, width: int, height: int) -> np.ndarray:
    """The picture scaled to cover width x height and cut to it about its centre (no bars, no stretching)."""
    rows, columns = picture.shape[:2]
    scale = max(width / columns, height / rows)
    size = (max(width, round(columns * scale)), max(height, round(rows * scale)))
    resized = cv2.resize(picture, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    top, left = (size[1] - height) // 2, (size[0] - width) // 2
    return np.ascontiguousarray(resized[top:top + height, left:left + width])


def read_picture(path: str | Path, width: int, height: int) -> np.ndarray:
    """A picture file as a BGR array filling width x height."""
    picture = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if picture is None:
        raise GenseqError("cannot read this picture (for the background)", path)
    return fill_frame(picture, width, height)


def background_frames(path: str | Path, width: int, height: int, fps: float, count: int) -> Iterator[np.ndarray]:
    """`count` frames of a video filling width x height, picked by time at `fps`; a shorter video loops.
    The video is opened (and a bad one refused) before the first frame is asked for."""
    capture = cv2.VideoCapture(str(path))
    ok, first = capture.read() if capture.isOpened() else (False, None)
    if not ok:
        capture.release()
        raise GenseqError("cannot decode this video (for the background)", path)
    return looped_frames(capture, fill_frame(first, width, height), width, height, fps, count)


def looped_frames(capture, first: np.ndarray, width: int, height: int, fps: float, count: int) -> Iterator[np.ndarray]:
    rate = capture.get(cv2.CAP_PROP_FPS) or fps
    current, position, base = first, 0, 0   # position: the file frame shown now; base: frames of the loops before
    try:
        for number in range(count):
            wanted, frame = int(number / fps * rate) - base, None
            while position < wanted:
                ok, read = capture.read()
                if not ok:
                    if position < 0:
                        break  # nothing after a rewind: hold the picture
                    capture.set(cv2.CAP_PROP_POS_FRAMES, 0)  # the end: start again from the top
                    base, wanted, position = base + position + 1, wanted - position - 1, -1
                    continue
                position, frame = position + 1, read
            if frame is not None:
                current = fill_frame(frame, width, height)
            yield current
    finally:
        capture.release()
