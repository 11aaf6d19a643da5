"""BVH motion capture -> MotionClip: parsing and forward kinematics.

`read_bvh` is the entry point. The steps are public for tests and tools: `parse_bvh` reads
the hierarchy and the motion rows, `forward_kinematics` gives every joint's (and end
site's) position in file units, `resample` changes the frame rate. Which joints are which
BlazePose landmarks, and the file's unit, are genseq.motion.landmarks' (`map_to_landmarks`,
`guess_unit`).

Conventions, as BVH files use them:
- Rotation channels are Euler angles in degrees, applied in the order the CHANNELS line
  lists them, each about the joint's already-rotated (intrinsic) axes: "Zrotation
  Xrotation Yrotation" means R = Rz @ Rx @ Ry and a child point p maps to offset + R @ p.
- Position channels (usually only on the root) give the joint's translation in its
  parent's frame and replace the OFFSET component they name, as Blender's importer does;
  in the CMU files the root OFFSET is zero, so adding or replacing agree there.
- End sites have no channels; they are named "<parent joint>/end" here.
- Y is up. A skeleton in its rest pose faces +Z, so its left side is +X.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genseq.core.errors import GenseqError
from genseq.core.motion import MotionClip, interpolate_frames
from genseq.motion.landmarks import HEAD_SOURCES, guess_unit, landmark_positions, map_to_landmarks, normalise_name
from genseq.motion.skeleton import INDEX, LANDMARKS

AXES = {"x": 0, "y": 1, "z": 2}
END_SUFFIX = "/end"


@dataclass
class BvhData:
    """A parsed BVH file: joints (end sites included, parents before children) and motion rows."""

    names: list[str]
    parents: list[int]            # -1 for the root
    offsets: np.ndarray           # (joints, 3) file units
    channels: list[list[str]]     # per joint, e.g. ["Xposition", ..., "Zrotation"]; [] for end sites
    channel_starts: list[int]     # per joint, its first column in `motion`
    frame_time: float             # seconds
    motion: np.ndarray            # (frames, channels) float64

    @property
    def source_fps(self) -> float:
        return 1.0 / self.frame_time


# ---------------------------------------------------------------------------------------------
# Parsing


class _Tokens:
    """The HIERARCHY text as a token stream, with line numbers for error messages."""

    def __init__(self, text: str, path: Path):
        self.items = [(tok, n) for n, line in enumerate(text.splitlines(), 1) for tok in line.split()]
        self.pos = 0
        self.path = path

    def peek(self) -> str | None:
        return self.items[self.pos][0] if self.pos < len(self.items) else None

    def take(self, what: str) -> str:
        if self.pos >= len(self.items):
            raise self.error(f"file ends where {what} was expected")
        token = self.items[self.pos][0]
        self.pos += 1
        return token

    def expect(self, keyword: str, context: str) -> None:
        token = self.take(f"'{keyword}' ({context})")
        if token.lower() != keyword.lower():
            raise self.error(f"expected '{keyword}' ({context}), found '{token}'", self.pos - 1)

    def number(self, context: str) -> float:
        token = self.take(f"a number ({context})")
        try:
            value = float(token)
        except ValueError:
            raise self.error(f"'{token}' is not a number ({context})", self.pos - 1) from None
        if not math.isfinite(value):
            raise self.error(f"'{token}' is not a finite number ({context})", self.pos - 1)
        return value

    def error(self, problem: str, at: int | None = None) -> GenseqError:
        at = min(self.pos if at is None else at, len(self.items) - 1)
        line = f"line {self.items[at][1]}: " if at >= 0 else ""
        return GenseqError(f"broken BVH hierarchy: {line}{problem}", self.path)


def parse_bvh(path: str | Path) -> BvhData:
    """Read a BVH file's hierarchy and motion; GenseqError (one line, naming the file) if it is not valid."""
    path = Path(path)
    text = read_text(path)
    header = text.lstrip()[:9]
    if header.upper() != "HIERARCHY":
        raise GenseqError("not a BVH file (it does not start with HIERARCHY)", path)
    match = re.search(r"^\s*MOTION\s*$", text, flags=re.MULTILINE | re.IGNORECASE)
    if match is None:
        raise GenseqError("not a complete BVH file (no MOTION section)", path)
    data = parse_hierarchy(text[:match.start()], path)
    frame_time, motion = parse_motion(text[match.end():], sum(len(c) for c in data.channels), path)
    data.frame_time, data.motion = frame_time, motion
    return data


def read_text(path: Path) -> str:
    if path.is_dir():
        raise GenseqError("is a folder, not a BVH file", path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GenseqError("no such file", path) from None
    except OSError as exc:
        raise GenseqError(f"cannot read file ({exc.strerror or exc})", path) from None
    if not raw:
        raise GenseqError("empty file (0 bytes)", path)
    if b"\x00" in raw[:4096]:
        raise GenseqError("not a BVH file (binary data)", path)
    return raw.decode("latin-1")  # BVH is ASCII; latin-1 never fails, and odd bytes show up in names


def parse_hierarchy(text: str, path: Path) -> BvhData:
    tokens = _Tokens(text, path)
    tokens.expect("HIERARCHY", "the file header")
    data = BvhData([], [], np.zeros((0, 3)), [], [], 0.0, np.zeros((0, 0)))
    offsets: list[list[float]] = []
    if (tokens.peek() or "").upper() != "ROOT":
        raise tokens.error(f"no ROOT joint (found '{tokens.peek() or 'the end of the hierarchy'}')")
    tokens.take("ROOT")
    parse_joint(tokens, data, offsets, parent=-1, name=tokens.take("the root's name"))
    if tokens.peek() is not None:
        extra = tokens.peek()
        if extra.upper() == "ROOT":
            raise tokens.error("more than one ROOT (several skeletons in one file are not supported)")
        raise tokens.error(f"unexpected '{extra}' after the root joint's closing brace (unbalanced braces?)")
    data.offsets = np.array(offsets, dtype=np.float64).reshape(-1, 3)
    return data


def parse_joint(tokens: _Tokens, data: BvhData, offsets: list, parent: int, name: str) -> None:
    """One ROOT/JOINT block (after its name), recursively with its children."""
    if name == "{":
        raise tokens.error("a joint has no name", tokens.pos - 1)
    index = len(data.names)
    data.names.append(name)
    data.parents.append(parent)
    data.channel_starts.append(sum(len(c) for c in data.channels))
    data.channels.append([])
    tokens.expect("{", f"opening joint '{name}'")
    if (tokens.peek() or "").upper() != "OFFSET":
        raise tokens.error(f"joint '{name}' has no OFFSET")
    tokens.take("OFFSET")
    offsets.append([tokens.number(f"OFFSET of joint '{name}'") for _ in range(3)])
    if (tokens.peek() or "").upper() != "CHANNELS":
        raise tokens.error(f"joint '{name}' has no CHANNELS")
    tokens.take("CHANNELS")
    data.channels[index] = parse_channels(tokens, name)
    while True:
        keyword = tokens.take(f"'}}' closing joint '{name}' (unbalanced braces)")
        upper = keyword.upper()
        if upper == "}":
            return
        if upper == "JOINT":
            parse_joint(tokens, data, offsets, index, tokens.take("a joint name"))
        elif upper == "END":
            tokens.expect("Site", f"End Site of joint '{name}'")
            parse_end_site(tokens, data, offsets, index)
        else:
            raise tokens.error(f"unexpected '{keyword}' inside joint '{name}' (expected JOINT, End Site or '}}')",
                               tokens.pos - 1)


def parse_channels(tokens: _Tokens, joint: str) -> list[str]:
    count_token = tokens.take(f"the channel count of joint '{joint}'")
    if not count_token.isdigit():
        raise tokens.error(f"CHANNELS of joint '{joint}' must start with a count, found '{count_token}'",
                           tokens.pos - 1)
    channels = [tokens.take(f"channel names of joint '{joint}'") for _ in range(int(count_token))]
    for channel in channels:
        if not re.fullmatch(r"[XYZ](position|rotation)", channel, flags=re.IGNORECASE):
            raise tokens.error(f"unknown channel '{channel}' in joint '{joint}' (or fewer names than its count)")
    return channels


def parse_end_site(tokens: _Tokens, data: BvhData, offsets: list, parent: int) -> None:
    name = data.names[parent] + END_SUFFIX
    tokens.expect("{", f"opening the End Site of '{data.names[parent]}'")
    tokens.expect("OFFSET", f"End Site of '{data.names[parent]}'")
    offsets.append([tokens.number(f"OFFSET of the End Site of '{data.names[parent]}'") for _ in range(3)])
    tokens.expect("}", f"closing the End Site of '{data.names[parent]}' (unbalanced braces?)")
    data.names.append(name)
    data.parents.append(parent)
    data.channel_starts.append(sum(len(c) for c in data.channels))
    data.channels.append([])


def parse_motion(text: str, num_channels: int, path: Path) -> tuple[float, np.ndarray]:
    """The MOTION section after its keyword: 'Frames: N', 'Frame Time: T', then N rows of numbers."""
    lines = [line for line in text.splitlines() if line.strip()]
    frames_match = re.fullmatch(r"\s*Frames:\s*(\d+)\s*", lines[0], re.IGNORECASE) if lines else None
    time_match = re.fullmatch(r"\s*Frame\s+Time:\s*(\S+)\s*", lines[1], re.IGNORECASE) if len(lines) > 1 else None
    if frames_match is None or time_match is None:
        raise GenseqError("broken BVH MOTION section (expected 'Frames: N' and 'Frame Time: T' lines)", path)
    declared = int(frames_match.group(1))
    try:
        frame_time = float(time_match.group(1))
    except ValueError:
        frame_time = float("nan")
    if not (frame_time > 0 and math.isfinite(frame_time)):
        raise GenseqError(f"bad Frame Time '{time_match.group(1)}' (must be a positive number of seconds)", path)
    rows = lines[2:]
    if declared == 0 or not rows:
        raise GenseqError("no motion frames (Frames: 0 or no rows)", path)
    if len(rows) != declared:
        raise GenseqError(f"declares {declared} frames but has {len(rows)} rows (truncated file?)", path)
    return frame_time, parse_rows(rows, num_channels, path)


def parse_rows(rows: list[str], num_channels: int, path: Path) -> np.ndarray:
    split = [row.split() for row in rows]
    for number, values in enumerate(split, 1):
        if len(values) != num_channels:
            raise GenseqError(f"motion frame {number} has {len(values)} values, the hierarchy declares "
                              f"{num_channels} channels", path)
    try:
        motion = np.array(split, dtype=np.float64)
    except ValueError:
        number, token = next((n, v) for n, values in enumerate(split, 1) for v in values if not is_number(v))
        raise GenseqError(f"motion frame {number}: '{token}' is not a number", path) from None
    if not np.isfinite(motion).all():
        number = int(np.flatnonzero(~np.isfinite(motion).all(axis=1))[0]) + 1
        raise GenseqError(f"motion frame {number} has a value that is not finite (nan or inf)", path)
    return motion.reshape(len(rows), num_channels)


def is_number(token: str) -> bool:
    try:
        float(token)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# Forward kinematics


def axis_rotations(axis: int, degrees: np.ndarray) -> np.ndarray:
    """(frames, 3, 3) rotation matrices about one coordinate axis."""
    radians = np.radians(degrees)
    cos, sin = np.cos(radians), np.sin(radians)
    matrices = np.zeros((len(degrees), 3, 3))
    a, b = [(1, 2), (2, 0), (0, 1)][axis]  # the plane the rotation turns, right-handed
    matrices[:, axis, axis] = 1.0
    matrices[:, a, a] = cos
    matrices[:, a, b] = -sin
    matrices[:, b, a] = sin
    matrices[:, b, b] = cos
    return matrices


def local_transform(data: BvhData, joint: int) -> tuple[np.ndarray | None, np.ndarray]:
    """A joint's rotation (frames, 3, 3) or None, and translation (frames, 3) in its parent's frame."""
    frames = len(data.motion)
    translation = np.repeat(data.offsets[joint][None, :], frames, axis=0)
    rotation = None
    for column, channel in enumerate(data.channels[joint], data.channel_starts[joint]):
        axis = AXES[channel[0].lower()]
        values = data.motion[:, column]
        if channel[1:].lower() == "position":
            translation[:, axis] = values
        else:
            turn = axis_rotations(axis, values)
            rotation = turn if rotation is None else rotation @ turn
    return rotation, translation


def forward_kinematics(data: BvhData) -> np.ndarray:
    """World positions (frames, joints, 3) in file units of every joint and end site, vectorised over frames."""
    frames, joints = len(data.motion), len(data.names)
    positions = np.zeros((frames, joints, 3))
    world_rotations: list[np.ndarray | None] = []  # None: identity (saves the matmuls)
    for joint, parent in enumerate(data.parents):
        rotation, translation = local_transform(data, joint)
        if parent < 0:
            positions[:, joint] = translation
            world = rotation
        else:
            parent_rotation = world_rotations[parent]
            moved = translation if parent_rotation is None else np.einsum("fij,fj->fi", parent_rotation, translation)
            positions[:, joint] = positions[:, parent] + moved
            world = compose(parent_rotation, rotation)
        world_rotations.append(world)
    return positions


def compose(first: np.ndarray | None, then: np.ndarray | None) -> np.ndarray | None:
    """first @ then, where None is the identity."""
    if first is None or then is None:
        return then if first is None else first
    return first @ then


def rest_positions(data: BvhData) -> np.ndarray:
    """(joints, 3) positions of the skeleton with no rotation: OFFSETs only."""
    positions = np.zeros((len(data.names), 3))
    for joint, parent in enumerate(data.parents):
        positions[joint] = data.offsets[joint] + (positions[parent] if parent >= 0 else 0.0)
    return positions


# ---------------------------------------------------------------------------------------------
# Frame rate and the entry point


def resample(positions: np.ndarray, source_fps: float, fps: float) -> np.ndarray:
    """Linear interpolation of (frames, ...) from source_fps to fps, over the clip's own time span."""
    frames = len(positions)
    if frames < 2 or abs(source_fps - fps) < 1e-6 * fps:
        return positions
    duration = (frames - 1) / source_fps
    count = int(math.floor(duration * fps + 1e-6)) + 1  # the tolerance absorbs Frame Time rounding (0.00833333)
    return interpolate_frames(positions, np.arange(count) * (source_fps / fps))


def read_bvh(path: str | Path, fps: float = 30.0, scale: float | None = None) -> MotionClip:
    """A BVH file as a MotionClip of the 33 BlazePose landmarks in metres (y up), resampled to `fps`.

    `scale` is metres per file unit; None guesses it (`guess_unit`). Landmarks the source
    skeleton has no joint for are valid=False, with finite positions near the body. The root
    trajectory is kept. Bad files raise GenseqError naming the file and the problem.
    """
    path = Path(path)
    if not fps > 0:
        raise GenseqError(f"frame rate must be positive, got {fps}", path)
    data = parse_bvh(path)
    mapping = map_to_landmarks(data.names)
    if not mapping:
        raise GenseqError("no joint matches a BlazePose landmark (unknown joint names: "
                          f"{', '.join(data.names[:8])}{', ...' if len(data.names) > 8 else ''})", path)
    if scale is None:
        scale = guess_unit(rest_positions(data), mapping)[1]
    source = forward_kinematics(data)
    head_names = {normalise_name(name) for name in HEAD_SOURCES}
    head = next((i for i, name in enumerate(data.names) if normalise_name(name) in head_names), None)
    positions = landmark_positions(source, mapping, root=0, head=head) * scale
    positions = resample(positions, data.source_fps, fps)
    with np.errstate(over="ignore", invalid="ignore"):
        positions = positions.astype(np.float32)
    if not np.isfinite(positions).all():
        raise GenseqError("motion values too large to be positions (not finite in metres)", path)
    valid = np.zeros(positions.shape[:2], dtype=bool)
    valid[:, [INDEX[name] for name in mapping]] = True
    return MotionClip(positions, valid, float(fps), list(LANDMARKS), None, path.stem)
