"""Example inputs made on the fly, so every deployment's defaults run on a fresh clone.

A user who clicks Run without choosing inputs gets:
- music: the example pieces shipped in assets/examples (render, extract), or tunes sampled
  now from the bundled melody model (assets/music-melody.pt; always for training, which
  needs more than two pieces), written as MIDI;
- dance: short synthetic BVH motion-capture files (a swaying, stepping, arm-waving figure with
  Mixamo joint names), made here with no data and no model.

Both are written once into the given folder and reused (same files, same cache keys) after.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from genseq.core.atomic import atomic_write_text, ensure_writable_dir

EXAMPLES_DIR = Path("out/examples")


def example_tunes(folder: str | Path = EXAMPLES_DIR / "tunes", count: int = 16, bars: int = 8) -> Path:
    """`count` tunes of `bars` bars sampled from the bundled melody model into `folder` (kept once made)."""
    from genseq.core.options import GenerateMusicOptions
    from genseq.music.generate import generate_music

    folder = Path(folder)
    if len(list(folder.glob("sample_*.mid"))) >= count:
        return folder
    generate_music(GenerateMusicOptions(out=str(folder), bars=bars, num_outputs=count, seed=1234))
    return folder


def bundled_examples() -> list[Path]:
    """The example MIDI files shipped in assets/examples (sampled from the bundled models), if any."""
    from genseq.core.paths import assets_dir

    return sorted((assets_dir() / "examples").glob("*.mid"))


def example_tune(folder: str | Path = EXAMPLES_DIR / "tune") -> Path:
    """assets/examples/melody.mid when shipped, else one tune sampled from the bundled melody model now."""
    shipped = [p for p in bundled_examples() if p.name == "melody.mid"] or bundled_examples()
    if shipped:
        return shipped[0]
    return example_tunes(folder, count=1, bars=8) / "sample_000.mid"


def example_midi_inputs() -> list[str]:
    """What extract-music reads by default: assets/examples when shipped, else sampled tunes."""
    shipped = bundled_examples()
    return [str(shipped[0].parent)] if shipped else [str(example_tunes())]


# ---------------------------------------------------------------------------------------------
# Synthetic BVH

# (name, parent, offset in cm); y up, the figure faces +z, its left is +x
JOINTS = [
    ("Hips", None, (0, 0, 0)),
    ("Spine", "Hips", (0, 12, 0)),
    ("Spine1", "Spine", (0, 14, 0)),
    ("Neck", "Spine1", (0, 24, 0)),
    ("Head", "Neck", (0, 9, 1)),
    ("LeftArm", "Spine1", (17, 21, 0)),
    ("LeftForeArm", "LeftArm", (0, -28, 0)),
    ("LeftHand", "LeftForeArm", (0, -25, 0)),
    ("RightArm", "Spine1", (-17, 21, 0)),
    ("RightForeArm", "RightArm", (0, -28, 0)),
    ("RightHand", "RightForeArm", (0, -25, 0)),
    ("LeftUpLeg", "Hips", (9, -4, 0)),
    ("LeftLeg", "LeftUpLeg", (0, -43, 0)),
    ("LeftFoot", "LeftLeg", (0, -42, 0)),
    ("LeftToeBase", "LeftFoot", (0, -6, 12)),
    ("RightUpLeg", "Hips", (-9, -4, 0)),
    ("RightLeg", "RightUpLeg", (0, -43, 0)),
    ("RightFoot", "RightLeg", (0, -42, 0)),
    ("RightToeBase", "RightFoot", (0, -6, 12)),
]
END_SITES = {"Head": (0, 14, 0), "LeftHand": (0, -9, 0), "RightHand": (0, -9, 0),
             "LeftToeBase": (0, 0, 5), "RightToeBase": (0, 0, 5)}


def hierarchy_text() -> str:
    children: dict[str, list[str]] = {}
    for name, parent, _ in JOINTS:
        children.setdefault(parent, []).append(name)
    offsets = {name: offset for name, _, offset in JOINTS}
    lines: list[str] = ["HIERARCHY"]

    def emit(name: str, depth: int) -> None:
        pad = "  " * depth
        root = depth == 0
        lines.append(f"{pad}{'ROOT' if root else 'JOINT'} {name}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {' '.join(f'{v:g}' for v in offsets[name])}")
        channels = "6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" if root else "3 Zrotation Xrotation Yrotation"
        lines.append(f"{pad}  CHANNELS {channels}")
        for child in children.get(name, []):
            emit(child, depth + 1)
        if name in END_SITES:
            lines.extend([f"{pad}  End Site", pad + "  {",
                          f"{pad}    OFFSET {' '.join(f'{v:g}' for v in END_SITES[name])}", pad + "  }"])
        lines.append(pad + "}")

    emit("Hips", 0)
    return "\n".join(lines)


def synthetic_motion(seconds: float, fps: float, seed: int) -> np.ndarray:
    """(frames, channels) rows: a figure swaying, stepping in place and waving, varied by seed."""
    rng = np.random.default_rng(seed)
    frames = max(2, int(round(seconds * fps)))
    t = np.arange(frames) / fps
    beat = 2 * math.pi * rng.uniform(0.7, 1.2)           # steps per second, in radians
    phase = rng.uniform(0, 2 * math.pi, size=4)
    wave = rng.uniform(40, 80)
    channels: dict[str, np.ndarray] = {}
    zero = np.zeros(frames)
    hips_pos = np.stack([8 * np.sin(beat * t / 2 + phase[0]), 96 + 2.5 * np.sin(2 * beat * t), 10 * np.sin(beat * t / 4)], 1)
    hips_rot = np.stack([4 * np.sin(beat * t / 2), zero, 25 * np.sin(beat * t / 8 + phase[1])], 1)  # Z, X, Y
    channels["Hips"] = np.concatenate([hips_pos, hips_rot], 1)
    rot = lambda z, x, y: np.stack([z, x, y], 1)  # noqa: E731  (Zrotation Xrotation Yrotation)
    channels["Spine"] = rot(-3 * np.sin(beat * t / 2), 5 + 3 * np.sin(beat * t), zero)
    channels["Spine1"] = rot(zero, zero, 10 * np.sin(beat * t / 2 + phase[2]))
    channels["Neck"] = rot(zero, 5 * np.sin(beat * t), zero)
    channels["Head"] = rot(8 * np.sin(beat * t / 2), zero, 15 * np.sin(beat * t / 3))
    arm = wave * (0.5 + 0.5 * np.sin(beat * t + phase[3]))
    channels["LeftArm"] = rot(20 + arm, 20 * np.sin(beat * t), zero)
    channels["RightArm"] = rot(-20 - wave * (0.5 + 0.5 * np.sin(beat * t + phase[3] + math.pi)), -20 * np.sin(beat * t), zero)
    channels["LeftForeArm"] = rot(zero, -30 - 30 * (0.5 + 0.5 * np.sin(2 * beat * t)), zero)
    channels["RightForeArm"] = rot(zero, -30 - 30 * (0.5 + 0.5 * np.cos(2 * beat * t)), zero)
    channels["LeftHand"] = rot(zero, zero, zero)
    channels["RightHand"] = rot(zero, zero, zero)
    lift_l = np.clip(np.sin(beat * t), 0, None)
    lift_r = np.clip(-np.sin(beat * t), 0, None)
    channels["LeftUpLeg"] = rot(3 * np.sin(beat * t / 2), -35 * lift_l, zero)
    channels["LeftLeg"] = rot(zero, 60 * lift_l, zero)
    channels["LeftFoot"] = rot(zero, -15 * lift_l, zero)
    channels["LeftToeBase"] = rot(zero, zero, zero)
    channels["RightUpLeg"] = rot(3 * np.sin(beat * t / 2), -35 * lift_r, zero)
    channels["RightLeg"] = rot(zero, 60 * lift_r, zero)
    channels["RightFoot"] = rot(zero, -15 * lift_r, zero)
    channels["RightToeBase"] = rot(zero, zero, zero)
    return np.concatenate([channels[name] for name, _, _ in JOINTS_IN_FILE_ORDER], 1)


def file_order() -> list[tuple]:
    """Joints in the order the hierarchy lists them (depth first), which is the channel order."""
    children: dict = {}
    for joint in JOINTS:
        children.setdefault(joint[1], []).append(joint)
    order = []

    def walk(joint) -> None:
        order.append(joint)
        for child in children.get(joint[0], []):
            walk(child)

    walk(JOINTS[0])
    return order


JOINTS_IN_FILE_ORDER = file_order()


def write_example_bvh(path: str | Path, seconds: float = 8.0, fps: float = 30.0, seed: int = 0) -> Path:
    """A synthetic BVH dance clip at `path` (kept if it exists)."""
    path = Path(path)
    if path.is_file():
        return path
    motion = synthetic_motion(seconds, fps, seed)
    rows = "\n".join(" ".join(f"{v:.4f}" for v in row) for row in motion)
    text = f"{hierarchy_text()}\nMOTION\nFrames: {len(motion)}\nFrame Time: {1.0 / fps:.6f}\n{rows}\n"
    ensure_writable_dir(path.parent)
    return atomic_write_text(path, text)


def example_dances(folder: str | Path = EXAMPLES_DIR / "dance", count: int = 4, seconds: float = 8.0) -> Path:
    """`count` synthetic BVH clips in `folder` (different tempo, phase and arm swing per clip)."""
    folder = Path(folder)
    for index in range(count):
        write_example_bvh(folder / f"synthetic_{index:02d}.bvh", seconds, seed=index)
    return folder
