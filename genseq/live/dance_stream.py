"""An endless dance: the dance model drawn frame after frame on the one Sampler, decoded a short
chunk at a time (with a few frames of context, so the low-pass and the root path run on across
chunks) and drawn as a stick figure by a camera that follows the dancer smoothly at one scale.
Everything kept has a fixed size: the recurrent state, the context rows, the camera."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from genseq.core.motion import MotionClip
from genseq.core.options import SamplingOptions
from genseq.core.paths import bundled_checkpoint
from genseq.model.sampler import Sampler

CHUNK, CONTEXT = 10, 8  # frames decoded at a time, and rows of the last chunk decoded again before it
FOLLOW = 0.08  # how much of the way to the dancer the camera moves each frame
ROOM = 1.15  # the picture holds this many times the body's extent in the first chunk


def load_dance_model(checkpoint: str | Path | None):
    from genseq.model.load import load_model
    from genseq.motion.domain import DANCE

    return load_model(checkpoint or bundled_checkpoint("dance.pt"), DANCE, "cpu")


class DanceSession:
    """Frames of normalised dance values, one draw a frame, starting from the training snippet."""

    def __init__(self, loaded, options: SamplingOptions):
        self.encoding = encoding = loaded.representation
        self.sampler = Sampler(loaded.model, "mdn", options, encoding.value_size)
        self.known = np.ones(encoding.value_size, dtype=np.float32)
        self.known[list(encoding.unknown)] = 0.0
        self.extra = loaded.model.layers[0].input_size - encoding.value_size  # style inputs: none asked (zeros)
        start = encoding.start_values if encoding.start_values is not None else encoding.mean[None, :]
        self.primer = encoding.normalise(start).astype(np.float32) * self.known
        self.sampler.feed(self.row(self.primer)[None])

    def row(self, values: np.ndarray) -> np.ndarray:
        values = np.atleast_2d(values)
        return np.concatenate([values, np.zeros((len(values), self.extra), dtype=np.float32)], axis=1)

    def draw(self) -> np.ndarray:
        value = self.sampler.draw()[0].cpu().numpy().astype(np.float32) * self.known
        self.sampler.feed(torch.from_numpy(self.row(value)))
        return value


class ChunkDecoder:
    """Normalised rows to positions, CHUNK at a time; the last CONTEXT rows are decoded again before
    the next chunk so smoothing and the root's path continue, and nothing else is kept."""

    def __init__(self, encoding, primer: np.ndarray):
        from genseq.motion.encode import RootState

        self.encoding, self.context, self.origin = encoding, primer[-CONTEXT:], RootState()
        self.lengths = dict(encoding.bone_lengths)

    def decode(self, rows: np.ndarray) -> MotionClip:
        from genseq.motion.encode import root_state

        window = np.concatenate([self.context, rows])
        clip = self.encoding.to_clip(window, self.origin, self.lengths, "stream")
        keep = len(self.context)
        self.origin = root_state(clip, len(window) - CONTEXT - 1) if len(window) > CONTEXT else self.origin
        self.context = window[-CONTEXT:]
        return MotionClip(clip.positions[keep:], clip.valid[keep:], clip.fps, clip.joint_names, None, "stream")


class FollowCamera:
    """A stick figure in a size x size picture: the camera eases toward the body each frame at a
    scale fixed by the first frames it sees."""

    def __init__(self, size: int):
        self.size, self.centre, self.scale, self.style = size, None, None, None

    def frames(self, clip: MotionClip) -> Iterator[np.ndarray]:
        from genseq.motion.render import body_centres, draw_skeleton, make_style, to_fixed_point

        if self.style is None:
            self.style, self.bones = make_style(clip, (self.size, self.size))
            offsets = np.abs(clip.positions[..., :2] - body_centres(clip)[:, None, :])[clip.valid]
            self.scale = self.size / max(2 * ROOM * float(offsets.max()) if len(offsets) else 1.0, 1e-6)
        centres = body_centres(clip)
        for index in range(clip.num_frames):
            self.centre = centres[index] if self.centre is None else self.centre + FOLLOW * (centres[index] - self.centre)
            xy = np.where(clip.valid[index][:, None], clip.positions[index, :, :2], 0.0)
            pixels = (xy - self.centre) * self.scale * np.array([1.0, -1.0]) + self.size / 2
            canvas = np.empty((self.size, self.size, 3), dtype=np.uint8)
            canvas[:] = self.style.background
            yield draw_skeleton(canvas, to_fixed_point(pixels.astype(np.float32)), clip.valid[index], self.bones, self.style)


def dance_frames(session: DanceSession, size: int) -> Iterator[np.ndarray]:
    """BGR pictures of the endless dance, one per model frame (the model's fps)."""
    decoder, camera = ChunkDecoder(session.encoding, session.primer), FollowCamera(size)
    while True:
        rows = np.stack([session.draw() for _ in range(CHUNK)])
        yield from camera.frames(decoder.decode(rows))
