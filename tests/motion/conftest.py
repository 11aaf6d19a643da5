"""Shared motion fixtures: synthetic bodies and tiny BVH files made by the tests themselves."""

from __future__ import annotations

import numpy as np

from genseq.core.motion import MotionClip
from genseq.motion.encode import rotate_y
from genseq.motion.skeleton import INDEX, LANDMARKS

FACE = LANDMARKS[:11]


def rest_pose(seed: int = 0) -> np.ndarray:
    """(33, 3) a standing body facing +z, hip midpoint at the origin, left side at +x."""
    rng = np.random.default_rng(seed)
    pose = np.zeros((33, 3))
    for name, point in {
        "left_hip": (0.1, 0, 0), "left_knee": (0.11, -0.42, 0.02), "left_ankle": (0.12, -0.85, 0),
        "left_heel": (0.12, -0.9, -0.05), "left_foot_index": (0.13, -0.92, 0.15), "left_shoulder": (0.18, 0.5, 0),
        "left_elbow": (0.25, 0.25, 0), "left_wrist": (0.28, 0.02, 0.03), "left_pinky": (0.3, -0.05, 0.02),
        "left_index": (0.29, -0.06, 0.05), "left_thumb": (0.27, -0.03, 0.06),
    }.items():
        pose[INDEX[name]] = point
        pose[INDEX[name.replace("left", "right")]] = (-point[0], point[1], point[2])
    for index, name in enumerate(FACE):
        pose[INDEX[name]] = (0.05 * np.sin(index), 0.7 + 0.01 * index, 0.08)
    return pose + rng.normal(0, 0.005, pose.shape)


def moving_clip(frames: int = 90, fps: float = 30.0, seed: int = 0, valid: np.ndarray | None = None) -> MotionClip:
    """A body that waves its limbs, walks along a curve, turns and bobs up and down; every joint valid."""
    time = np.arange(frames) / fps
    local = np.repeat(rest_pose(seed)[None], frames, axis=0)
    wave = np.sin(2 * np.pi * 1.3 * time)[:, None]
    for name in ("wrist", "elbow", "knee", "ankle", "foot_index"):
        local[:, INDEX[f"left_{name}"], 2] += 0.2 * wave[:, 0]
        local[:, INDEX[f"right_{name}"], 2] -= 0.2 * wave[:, 0]
    local[:, :, 1] += 0.03 * wave
    heading = 0.8 * time + 0.3 * np.sin(2 * time)
    root = np.stack([np.sin(time), 0.95 + 0.02 * np.cos(5 * time), 0.5 * time], axis=1)
    positions = root[:, None, :] + rotate_y(local, heading[:, None])
    valid = np.ones((frames, 33), dtype=bool) if valid is None else valid
    return MotionClip(positions.astype(np.float32), valid, fps, list(LANDMARKS), name=f"moving{seed}")


def bvh_like(clip: MotionClip) -> MotionClip:
    """The clip with the landmarks the CMU files lack (face points but the eyes, heels) missing."""
    valid = clip.valid.copy()
    missing = [name for name in FACE if name not in ("left_eye", "right_eye")] + ["left_heel", "right_heel"]
    valid[:, [INDEX[name] for name in missing]] = False
    return MotionClip(clip.positions, valid, clip.fps, list(clip.joint_names), None, clip.name)


def turned(clip: MotionClip, angle: float, shift=(2.0, 0.0, -3.0)) -> MotionClip:
    positions = rotate_y(clip.positions.astype(np.float64), np.array(angle)) + np.array(shift)
    return MotionClip(positions.astype(np.float32), clip.valid, clip.fps, list(clip.joint_names), None, clip.name)


def video_like(clip: MotionClip) -> MotionClip:
    """The clip as video gives it: with image positions, and hip-centred world coordinates."""
    positions = clip.positions - (clip.positions[:, 23:25].mean(axis=1, keepdims=True))
    return MotionClip(positions, clip.valid, clip.fps, list(clip.joint_names), np.zeros_like(positions), clip.name)


ARM = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT LeftUpLeg
  {
    OFFSET 2 0 0
    CHANNELS 3 %s
    End Site
    {
      OFFSET 0 1 0
    }
  }
}
MOTION
Frames: %d
Frame Time: %s
%s
"""


def write_bvh(tmp_path, rows, channels="Zrotation Xrotation Yrotation", frame_time="0.5", name="arm.bvh"):
    path = tmp_path / name
    path.write_text(ARM % (channels, len(rows), frame_time, "\n".join(" ".join(map(str, r)) for r in rows)))
    return path


