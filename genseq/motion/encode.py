"""The dance representation: MotionClip <-> per-frame feature vectors for the sequence model.

Per frame t (y is up; a body's heading is the direction it faces on the ground plane):
- root: the hip midpoint; heading: from the hip line (left hip minus right hip) projected on
  the ground, the body facing along up x hip line (the shoulder line when the hips are missing);
- joints: every modelled joint's position minus the root, rotated into the body's heading
  frame (x: the body's left, y: up, z: forward), 3 values a joint;
- root motion: the root's ground velocity (metres per frame) in the heading frame of frame
  t-1 (lateral x, forward z), the root height, and the heading change since frame t-1 (rad);
- optionally (`velocities=True`) each joint's local velocity (frame t minus frame t-1 of the
  joint features): a second time scale.

Layout of one frame: [joints (J x 3, landmark order) | root (4) | velocities (J x 3, optional)],
D = 3J + 4 (+ 3J). J is the number of modelled joints: the landmarks valid in at least
MIN_JOINT_COVERAGE of the training frames (closed under the mirror map). The CMU BVH files
give 22 (no face points besides the eyes, no heels), so D = 70 there; full mediapipe video
gives 33 (D = 103). Landmarks that are never seen would only add outputs the mixture head
cannot learn, and in auto-conditioned training their meaningless predictions would be fed
back as inputs.

Everything is heading- and position-invariant: a clip turned about y or moved on the floor
gives the same features. Features are normalised per dimension with the mean and standard
deviation of the training clips (and their mirror images when mirroring is on), stored in
the checkpoint as plain lists. Missing values (a joint with valid=False, root motion when
a hip is missing) are masked out of the targets and set to 0 (the mean) in the inputs.

Model input at step t is the normalised features of frame t-1; the target is frame t, so
input[..., :D] is exactly the previous target, as auto-conditioned training assumes.

Decoding integrates heading changes and root velocities from a starting root state, then
re-projects each frame onto fixed limb lengths and the spans across hips, shoulders and hands
(`genseq.motion.rigid.rigid_skeleton`) so the skeleton does not stretch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genseq.core.errors import GenseqError
from genseq.core.motion import MotionClip
from genseq.core.pieces import EncodedPiece
from genseq.motion.contacts import FOOT_SLIP, lock_feet
from genseq.motion.filters import gaussian_smooth
from genseq.motion.rigid import (  # noqa: F401 (the skeleton helpers are imported from here too)
    HAND_SPANS, LIMB_TREE, SPANS, bone_lengths, fix_hands, fix_spans, merged_bone_lengths, reproject_bones,
    rigid_skeleton, span_pairs,
)
from genseq.motion.skeleton import INDEX, LANDMARKS, MIRROR
from genseq.motion.styles import fitted_styles, style_of, with_style

ROOT_FEATURES = ("root_velocity_lateral", "root_velocity_forward", "root_height", "heading_change")
ROOT_SIZE = len(ROOT_FEATURES)
MIN_JOINT_COVERAGE = 0.05  # a landmark valid in fewer training frames than this is not modelled
STD_FLOOR = 1e-4           # some dimensions are constant by construction (a hip's forward offset is 0)
START_SECONDS = 1.0        # length of the training snippet stored to start generation without a primer
OUTPUT_SMOOTHING_FRAMES = 1.5  # Gaussian sigma (50 ms at 30 fps) of the low-pass on generated frames (bench/dance_quality)

LEFT_HIP, RIGHT_HIP = INDEX["left_hip"], INDEX["right_hip"]
LEFT_SHOULDER, RIGHT_SHOULDER = INDEX["left_shoulder"], INDEX["right_shoulder"]


# ---------------------------------------------------------------------------------------------
# Geometry


def wrap_angle(angle: np.ndarray) -> np.ndarray:
    """Angles into [-pi, pi)."""
    return (np.asarray(angle) + np.pi) % (2 * np.pi) - np.pi


def rotate_y(points: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate (..., 3) points about the y axis by `angle` (broadcast over the leading axes):
    angle 0 faces +z; R(a) takes +z to (sin a, 0, cos a) and +x (the left) to (cos a, 0, -sin a)."""
    cos, sin = np.cos(angle)[..., None], np.sin(angle)[..., None]
    x, y, z = points[..., 0:1], points[..., 1:2], points[..., 2:3]
    return np.concatenate([cos * x + sin * z, y, cos * z - sin * x], axis=-1)


def hip_roots(positions: np.ndarray) -> np.ndarray:
    """(frames, 3) hip midpoints."""
    return (positions[:, LEFT_HIP] + positions[:, RIGHT_HIP]) / 2.0


def line_heading(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heading (frames,) of a left-right line and whether it is usable (not vertical)."""
    across = left - right
    usable = np.hypot(across[:, 0], across[:, 2]) > 1e-6
    return np.arctan2(-across[:, 2], across[:, 0]), usable


def headings(positions: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(frames,) heading of the body: the hip line where both hips are valid, else the shoulder
    line, else the last known heading (the first known one before it; 0 if none is known)."""
    hips, hips_ok = line_heading(positions[:, LEFT_HIP], positions[:, RIGHT_HIP])
    shoulders, shoulders_ok = line_heading(positions[:, LEFT_SHOULDER], positions[:, RIGHT_SHOULDER])
    hips_ok &= valid[:, LEFT_HIP] & valid[:, RIGHT_HIP]
    shoulders_ok &= valid[:, LEFT_SHOULDER] & valid[:, RIGHT_SHOULDER]
    angle = np.where(hips_ok, hips, shoulders)
    known = hips_ok | shoulders_ok
    if not known.any():
        return np.zeros(len(positions))
    source = np.where(known, np.arange(len(angle)), 0)
    np.maximum.accumulate(source, out=source)
    source[: np.argmax(known)] = np.argmax(known)
    return angle[source]


def local_positions(clip: MotionClip) -> np.ndarray:
    """(frames, joints, 3) positions relative to the hip midpoint, in each frame's heading frame."""
    positions = clip.positions.astype(np.float64)
    theta = headings(positions, clip.valid)
    return rotate_y(positions - hip_roots(positions)[:, None, :], -theta[:, None])


@dataclass
class RootState:
    """Where a body stands on the floor (x, z) and which way it faces (rad); decoding starts here."""

    x: float = 0.0
    z: float = 0.0
    heading: float = 0.0


def root_state(clip: MotionClip, frame: int = -1) -> RootState:
    """The root state of one frame of a clip (default: the last), to continue the clip from."""
    positions = clip.positions.astype(np.float64)
    root = hip_roots(positions)[frame]
    return RootState(float(root[0]), float(root[2]), float(headings(positions, clip.valid)[frame]))


# ---------------------------------------------------------------------------------------------
# Features


@dataclass
class MotionFeatures:
    """Raw (not normalised) features of a clip: values (frames, D), mask (frames, D) True where known,
    and the root state just before frame 0 (decoding `values` from it reproduces the clip)."""

    values: np.ndarray
    mask: np.ndarray
    origin: RootState
    style: str | None = None  # the clip's style when the representation has styles (genseq.motion.styles)


def has_trajectory(clip: MotionClip) -> bool:
    """Whether the clip's root moves through the world: not for video, whose world landmarks mediapipe
    centres on the hips every frame (such clips carry image_positions)."""
    return clip.image_positions is None


def clip_features(clip: MotionClip, joints: list[int], velocities: bool = False) -> MotionFeatures:
    """Features of every frame of a clip over the given landmark indices (see the module docstring).
    A clip without a trajectory (video) has its root velocity and height masked as unknown."""
    positions = np.nan_to_num(clip.positions.astype(np.float64))
    valid = clip.valid
    frames = len(positions)
    theta = headings(positions, valid)
    root = hip_roots(positions)
    local = rotate_y(positions - root[:, None, :], -theta[:, None])[:, joints]
    joint_mask = np.repeat(valid[:, joints], 3, axis=1)
    hips_ok = valid[:, LEFT_HIP] & valid[:, RIGHT_HIP]
    step = np.zeros((frames, 3))
    step[1:] = rotate_y(root[1:] - root[:-1], -theta[:-1])
    turn = np.zeros(frames)
    turn[1:] = wrap_angle(theta[1:] - theta[:-1])
    moving_ok = np.zeros(frames, dtype=bool)
    moving_ok[1:] = hips_ok[1:] & hips_ok[:-1]
    if frames > 1:  # frame 0 has no previous frame: it moves as frame 1 does
        step[0], turn[0], moving_ok[0] = step[1], turn[1], moving_ok[1]
    root_values = np.stack([step[:, 0], step[:, 2], root[:, 1], turn], axis=1)
    travels = has_trajectory(clip)
    root_mask = np.stack([moving_ok & travels, moving_ok & travels, hips_ok & travels, moving_ok], axis=1)
    blocks = [local.reshape(frames, -1), root_values]
    masks = [joint_mask, root_mask]
    if velocities:
        flat = local.reshape(frames, -1)
        change = np.zeros_like(flat)
        change[1:] = flat[1:] - flat[:-1]
        change_mask = np.zeros_like(joint_mask)
        change_mask[1:] = joint_mask[1:] & joint_mask[:-1]
        if frames > 1:
            change[0], change_mask[0] = change[1], change_mask[1]
        blocks.append(change)
        masks.append(change_mask)
    before = theta[0] - turn[0]
    start = root[0] - rotate_y(np.array([step[0, 0], 0.0, step[0, 2]]), np.array(before))
    values = np.concatenate(blocks, axis=1)
    return MotionFeatures(values.astype(np.float32), np.concatenate(masks, axis=1),
                          RootState(float(start[0]), float(start[2]), float(before)))


def mirror_clip(clip: MotionClip) -> MotionClip:
    """The clip's mirror image: left and right swapped, x negated."""
    positions = clip.positions[:, MIRROR] * np.array([-1.0, 1.0, 1.0], dtype=np.float32)
    return MotionClip(positions, clip.valid[:, MIRROR], clip.fps, list(clip.joint_names), None, clip.name)


def mirrored_joints(joints: list[int]) -> list[int]:
    """Position in `joints` of each joint's mirror image (`joints` must be closed under the mirror map)."""
    where = {joint: k for k, joint in enumerate(joints)}
    return [where[MIRROR[joint]] for joint in joints]


def modelled_joints(clips: list[MotionClip]) -> list[int]:
    """Landmarks valid in at least MIN_JOINT_COVERAGE of all frames (or whose mirror image is)."""
    valid = np.concatenate([clip.valid for clip in clips])
    seen = valid.mean(axis=0) >= MIN_JOINT_COVERAGE
    seen |= seen[MIRROR]
    return [int(j) for j in np.flatnonzero(seen)]


@dataclass
class DanceEncoding:
    """The fitted representation: which joints, normalisation statistics, bone lengths, a start snippet.
    It is the dance domain's Representation (genseq/core/pieces.py), as melody and piano roll are music's."""

    name = "dance"
    head = "mdn"  # a mixture density over the next pose, so sampling does not regress to the mean pose

    joints: list[int]
    mean: np.ndarray
    std: np.ndarray
    fps: float
    velocities: bool = False
    bone_lengths: dict[str, float] = field(default_factory=dict)
    start_values: np.ndarray | None = None  # (frames, D) raw features of a training snippet
    unknown: list[int] = field(default_factory=list)  # dimensions never known in training: held at the mean
    styles: list[str] = field(default_factory=list)  # one-hot style inputs after the values (none: no styles)

    @property
    def value_size(self) -> int:
        return len(self.mean)

    @property
    def input_size(self) -> int:
        return self.value_size + len(self.styles)

    @property
    def joint_size(self) -> int:
        return 3 * len(self.joints)

    # -- metadata ------------------------------------------------------------------------------

    def metadata(self) -> dict:
        """Plain lists and floats, as the checkpoint stores them (it loads with weights_only=True)."""
        return {
            "name": "dance", "fps": float(self.fps), "joints": [LANDMARKS[j] for j in self.joints],
            "velocities": bool(self.velocities), "root_features": list(ROOT_FEATURES),
            "mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std],
            "bone_lengths": {k: float(v) for k, v in self.bone_lengths.items()},
            "start_values": [] if self.start_values is None else [[float(v) for v in row] for row in self.start_values],
            "unknown": [int(d) for d in self.unknown], "styles": list(self.styles),
        }

    @classmethod
    def from_metadata(cls, metadata: dict) -> "DanceEncoding":
        if metadata.get("name") != "dance":
            raise GenseqError(f"unknown representation {metadata.get('name')!r} (expected dance)")
        joints = [INDEX[name] for name in metadata["joints"]]
        start = np.array(metadata.get("start_values") or [], dtype=np.float32)
        return cls(joints, np.array(metadata["mean"], dtype=np.float32), np.array(metadata["std"], dtype=np.float32),
                   float(metadata["fps"]), bool(metadata.get("velocities", False)), dict(metadata.get("bone_lengths", {})),
                   start if start.size else None, [int(d) for d in metadata.get("unknown", [])],
                   [str(style) for style in metadata.get("styles", [])])

    # -- encoding ------------------------------------------------------------------------------

    def features(self, clip: MotionClip) -> MotionFeatures:
        if abs(clip.fps - self.fps) > 1e-6 * self.fps:
            raise GenseqError(f"clip is at {clip.fps:g} fps, the representation at {self.fps:g} fps", clip.name or None)
        features = clip_features(clip, self.joints, self.velocities)
        style = style_of(clip.name)
        features.style = style if style in self.styles else None
        return features

    def normalise(self, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Standardised float32 values; masked entries become 0 (the mean)."""
        normal = (np.asarray(values, dtype=np.float32) - self.mean) / self.std
        return normal if mask is None else np.where(mask, normal, 0.0).astype(np.float32)

    def denormalise(self, normal: np.ndarray) -> np.ndarray:
        return np.asarray(normal, dtype=np.float32) * self.std + self.mean

    def encode(self, clip: MotionClip) -> EncodedPiece:
        """The model inputs and targets of one clip (Representation.encode)."""
        return self.piece(self.features(clip))

    def piece(self, features: MotionFeatures) -> EncodedPiece:
        """Model-ready arrays: input at step t = frame t-1, target = frame t."""
        normal = self.normalise(features.values, features.mask)
        return EncodedPiece(self.inputs(normal[:-1], features.style), normal[1:], features.mask[1:].astype(np.float32))

    def inputs(self, normal: np.ndarray, style: str | None = None) -> np.ndarray:
        """Model inputs of (..., T, D) normalised values: the style's one-hot appended when the model has styles."""
        return with_style(normal, self.styles, style)

    def mirror_values(self, values: np.ndarray, mask: np.ndarray | None = None):
        """Feature-space mirror image of raw values (and their mask): joints swapped with their
        mirror images and lateral components negated; lateral velocity and heading change negated."""
        order = np.array(mirrored_joints(self.joints))
        joint_index = (3 * order[:, None] + np.arange(3)).reshape(-1)
        index = np.concatenate([joint_index, self.joint_size + np.arange(ROOT_SIZE)])
        sign = np.ones(self.joint_size + ROOT_SIZE, dtype=np.float32)
        sign[0:self.joint_size:3] = -1.0
        sign[self.joint_size + 0] = sign[self.joint_size + 3] = -1.0
        if self.velocities:
            index = np.concatenate([index, self.joint_size + ROOT_SIZE + joint_index])
            sign = np.concatenate([sign, sign[: self.joint_size]])
        mirrored = values[..., index] * sign
        return mirrored if mask is None else (mirrored, mask[..., index])

    # -- decoding ------------------------------------------------------------------------------

    def decode(self, values: np.ndarray, origin: RootState) -> np.ndarray:
        """(frames, 33, 3) world positions of raw feature rows, the root integrated from `origin`
        (the state of the frame before the first row). Landmarks not modelled sit at the mean of the
        modelled ones (finite, near the body; they are marked invalid)."""
        values = np.asarray(values, dtype=np.float64)
        frames = len(values)
        local = values[:, : self.joint_size].reshape(frames, -1, 3)
        step_x, step_z, height, turn = (values[:, self.joint_size + k] for k in range(ROOT_SIZE))
        theta = origin.heading + np.cumsum(turn)
        before = np.concatenate([[origin.heading], theta[:-1]])
        steps = rotate_y(np.stack([step_x, np.zeros(frames), step_z], axis=1), before)
        root = np.stack([origin.x + np.cumsum(steps[:, 0]), height, origin.z + np.cumsum(steps[:, 2])], axis=1)
        placed = root[:, None, :] + rotate_y(local, theta[:, None])
        positions = np.repeat(placed.mean(axis=1, keepdims=True), len(LANDMARKS), axis=1)
        positions[:, self.joints] = placed
        return positions

    def to_clip(self, normal: np.ndarray, origin: RootState, lengths: dict[str, float] | None = None,
                name: str = "", smoothing: float = OUTPUT_SMOOTHING_FRAMES, plant_feet: bool = True) -> MotionClip:
        """A MotionClip of sampled normalised feature rows: low-passed in time (a Gaussian of `smoothing`
        frames: the mixture's independent draws shake each frame; 0: off), decoded, the skeleton made rigid
        on `lengths` (default: the training data's), the body put on the floor and planted feet held
        (genseq.motion.contacts). The modelled landmarks are valid."""
        values = gaussian_smooth(self.denormalise(normal), smoothing)
        positions = self.decode(values, origin)
        valid = np.zeros(positions.shape[:2], dtype=bool)
        valid[:, self.joints] = True
        lengths = self.bone_lengths if lengths is None else lengths
        positions = rigid_skeleton(positions, valid, lengths)
        planted = lock_feet(positions, valid, fps=self.fps, slip=FOOT_SLIP) if plant_feet else positions
        return MotionClip(planted, valid, self.fps, list(LANDMARKS),
                          None, name)


def fit_encoding(clips: list[MotionClip], fps: float, mirror: bool = True, velocities: bool = False,
                 styles: bool = False) -> DanceEncoding:
    """The representation of a training set: modelled joints, normalisation over the clips (and
    their mirror images when `mirror`), limb lengths, a one-second start snippet, and with `styles`
    the clips' styles (their folders) as inputs."""
    if not clips:
        raise GenseqError("no motion clips to fit a representation on")
    joints = modelled_joints(clips)
    if LEFT_HIP not in joints or RIGHT_HIP not in joints:
        raise GenseqError("the hips are missing in almost every frame: cannot place the body's root",
                          clips[0].name or None)
    encoding = DanceEncoding(joints, np.zeros(0, np.float32), np.ones(0, np.float32), fps, velocities)
    features = [clip_features(clip, joints, velocities) for clip in clips]
    values = np.concatenate([f.values for f in features])
    mask = np.concatenate([f.mask for f in features])
    size = values.shape[1]
    encoding.mean, encoding.std = np.zeros(size, np.float32), np.ones(size, np.float32)
    if mirror:
        mirrored, mirrored_mask = encoding.mirror_values(values, mask)
        values, mask = np.concatenate([values, mirrored]), np.concatenate([mask, mirrored_mask])
    encoding.mean, encoding.std = masked_statistics(values, mask)
    encoding.unknown = [int(d) for d in np.flatnonzero(~mask.any(axis=0))]
    encoding.bone_lengths = merged_bone_lengths(clips)
    encoding.start_values = start_snippet(features, round(START_SECONDS * fps))
    encoding.styles = fitted_styles([clip.name for clip in clips]) if styles else []
    return encoding


def masked_statistics(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and standard deviation over the known entries (0 and 1 where none is)."""
    count = mask.sum(axis=0)
    total = np.where(mask, values, 0.0).astype(np.float64).sum(axis=0)
    mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    square = np.where(mask, (values - mean) ** 2, 0.0).sum(axis=0)
    std = np.where(count > 1, np.sqrt(square / np.maximum(count - 1, 1)), 1.0)
    return mean.astype(np.float32), np.maximum(std, STD_FLOOR).astype(np.float32)


def start_snippet(features: list[MotionFeatures], frames: int) -> np.ndarray:
    """Raw features of `frames` fully known frames (dimensions never known aside) from the middle of
    the longest clip that has them."""
    ever = np.logical_or.reduce([f.mask.any(axis=0) for f in features])
    for f in sorted(features, key=lambda f: -len(f.values)):
        known = (f.mask | ~ever).all(axis=1)
        middle = len(known) // 2
        for start in sorted(range(max(1, len(known) - frames + 1)), key=lambda s: abs(s - middle)):
            if known[start:start + frames].all():
                return f.values[start:start + frames]
    return features[0].values[:1]
