"""Video -> MotionClip: mediapipe BlazePose (33 landmarks) on every frame, then gap filling and smoothing.

Frames are decoded (and converted to RGB) on a background thread feeding a small bounded
queue while mediapipe runs on the calling thread: OpenCV's decoder and mediapipe's graph both
release the GIL, so decoding the next frames overlaps inference on the current one. Decoding
is only about 4% of the work for small videos (1 ms against 23 ms of inference a frame), so
that is the most the overlap can win; bench/pose_extract.py measures it against a bare loop.

Coordinates: `positions` are mediapipe's world landmarks (metres, origin at the hip centre)
turned into the MotionClip convention: x to the image's right, y up, z towards the camera
(a right-handed frame; mediapipe's is y down, z away from the camera, so y and z are negated,
a rotation, not a mirror). `image_positions` keep mediapipe's image landmarks as they are
(x, y normalised to the frame, y down) with each landmark's visibility in the third column.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import warnings
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from genseq.core.errors import GenseqError
from genseq.core.motion import MotionClip
from genseq.motion.filters import DEFAULT_SMOOTHING, interpolate_gaps, one_euro, smoothing_params
from genseq.motion.skeleton import LANDMARKS

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")
VISIBILITY_THRESHOLD = 0.5  # mediapipe's own drawing utilities hide landmarks below 0.5
QUEUE_FRAMES = 8  # decoded frames waiting for inference: enough to absorb jitter, little memory
MEDIAPIPE_TO_Y_UP = np.array([1.0, -1.0, -1.0], dtype=np.float32)
END_OF_STREAM = object()

Progress = Callable[[int, int], None]


def extract_video(
    path: str | Path,
    smoothing: float = DEFAULT_SMOOTHING,
    max_gap_seconds: float = 0.25,
    progress: Progress | None = None,
) -> MotionClip:
    """Track the most prominent person in a video; one MotionClip with the 33 BlazePose landmarks.

    A joint is valid in a frame when a person was detected there and mediapipe's visibility
    for that landmark is above VISIBILITY_THRESHOLD (0.5); frames without a person have every
    joint invalid (positions and image_positions 0). Invalid runs of at most max_gap_seconds
    with valid frames on both sides are filled linearly and marked valid; then the world
    positions are smoothed with the One Euro filter at `smoothing` (0 = off, 0.5 default,
    1 strongest; see genseq.motion.filters.smoothing_params); image_positions are gap-filled
    but not smoothed, so they stay on the pictured body. Invalid joints of a detected frame
    keep mediapipe's raw guess. progress(frames_done, total_frames) is called after each
    frame; total_frames is the container's count (at least frames_done) and exact at the end.
    Raises GenseqError for a missing, empty, unreadable or frameless file, and when no person
    is found in any frame.
    """
    path = Path(path)
    params = smoothing_params(smoothing)  # a bad strength fails before any decoding
    capture, fps, announced = open_video(path)
    world, image, detected = track_pose(capture, announced, progress)
    frames = len(detected)
    if frames == 0:
        raise GenseqError("no frames could be decoded (corrupt or truncated video)", path)
    if not detected.any():
        raise GenseqError(f"no person found in any of {frames} frames", path)
    valid = detected[:, None] & (image[:, :, 2] > VISIBILITY_THRESHOLD)
    if not valid.any():
        raise GenseqError(f"a person was found in {int(detected.sum())} of {frames} frames, but no landmark "
                          f"had visibility above {VISIBILITY_THRESHOLD}", path)
    if 0 < announced and frames < announced:
        warnings.warn(f"{path}: decoded only {frames} of the {announced} frames the file announces "
                      "(truncated or corrupt?); keeping those", stacklevel=2)
    max_gap = int(round(max_gap_seconds * fps))
    world, filled = interpolate_gaps(world, valid, max_gap)
    image, _ = interpolate_gaps(image, valid, max_gap)
    if params is not None:
        world = one_euro(world, fps, params, filled)
    return MotionClip(world, filled, fps, list(LANDMARKS), image.astype(np.float32), path.stem)


def open_video(path: Path):
    """An opened cv2.VideoCapture with its frame rate and announced frame count (0 if unknown)."""
    import cv2

    if not path.is_file():
        raise GenseqError("no such file" if not path.exists() else "not a file", path)
    if path.stat().st_size == 0:
        raise GenseqError("empty file (0 bytes)", path)
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise GenseqError(unopenable_reason(path), path)
    fps = capture.get(cv2.CAP_PROP_FPS)
    if not 0 < fps < 1000:  # also rejects NaN
        capture.release()
        raise GenseqError(f"the video reports no usable frame rate ({fps})", path)
    announced = capture.get(cv2.CAP_PROP_FRAME_COUNT)
    return capture, float(fps), int(announced) if 0 < announced < 1e9 else 0


def unopenable_reason(path: Path) -> str:
    """Why OpenCV could not open a file: a known container that is damaged, or not a video at all."""
    with path.open("rb") as handle:
        head = handle.read(12)
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "cannot open this MP4/MOV video: truncated or corrupt (its index, the 'moov' box, may be missing)"
    if head[:4] == b"\x1a\x45\xdf\xa3" or (head[:4] == b"RIFF" and head[8:12] == b"AVI "):
        return "cannot open this MKV/WebM/AVI video: truncated or corrupt"
    return "not a video file (OpenCV/FFmpeg cannot open it)"


def track_pose(capture, announced: int, progress: Progress | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run mediapipe Pose on every frame: world (F,33,3) y-up metres, image (F,33,3), detected (F,)."""
    import mediapipe as mp

    world_rows, image_rows, detected = [], [], []
    empty = np.zeros((len(LANDMARKS), 3), dtype=np.float32)
    # smooth_landmarks=False: our One Euro filter is the only smoothing, so smoothing=0 means raw
    # estimates and the documented parameters are the whole story; tracking (the region of
    # interest carried from frame to frame) works the same either way.
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=False,
                                enable_segmentation=False) as pose, decoded_frames(capture) as frames:
        for rgb in frames:
            result = pose.process(rgb)
            found = result.pose_world_landmarks is not None and result.pose_landmarks is not None
            world_rows.append(landmark_array(result.pose_world_landmarks, "z") * MEDIAPIPE_TO_Y_UP if found else empty)
            image_rows.append(landmark_array(result.pose_landmarks, "visibility") if found else empty)
            detected.append(found)
            if progress:
                progress(len(detected), max(announced, len(detected)))
    if progress and detected and len(detected) != announced:
        progress(len(detected), len(detected))
    shape = (len(detected), len(LANDMARKS), 3)
    return (np.array(world_rows, dtype=np.float32).reshape(shape), np.array(image_rows, dtype=np.float32).reshape(shape),
            np.array(detected, dtype=bool))


def landmark_array(landmarks, third: str) -> np.ndarray:
    """(33, 3) float32 of each landmark's x, y and the named third attribute (z or visibility)."""
    return np.array([(mark.x, mark.y, getattr(mark, third)) for mark in landmarks.landmark], dtype=np.float32)


@contextlib.contextmanager
def decoded_frames(capture) -> Iterator[Iterator[np.ndarray]]:
    """Yield an iterator of RGB frames decoded by a background thread; always stops it and releases capture."""
    frames: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
    stop = threading.Event()
    worker = threading.Thread(target=decode_into, args=(capture, frames, stop), name="genseq-video-decode", daemon=True)
    worker.start()

    def consume() -> Iterator[np.ndarray]:
        while (item := frames.get()) is not END_OF_STREAM:
            if isinstance(item, BaseException):
                raise item
            yield item

    try:
        yield consume()
    finally:
        stop.set()
        worker.join()
        capture.release()


def decode_into(capture, frames: queue.Queue, stop: threading.Event) -> None:
    """Read frames until the stream ends or `stop` is set; an error is passed on, then END_OF_STREAM."""
    import cv2

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        while not stop.is_set():
            ok, frame = capture.read()
            if not ok or not offer(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)):
                break
    except Exception as exc:  # surfaced on the consuming thread
        offer(exc)
    offer(END_OF_STREAM)
