"""The skeleton decoding keeps rigid: limb lengths along a kinematic tree, and the spans across the
hips, the shoulders and each hand that are not limbs of the tree.

Lengths are a dict 'parent>child' -> metres (`bone_lengths` of a clip); a pair without a length
is left as it is, so lengths stored by older checkpoints (limbs only) still decode.
"""

from __future__ import annotations

import numpy as np

from genseq.core.motion import MotionClip
from genseq.motion.skeleton import INDEX

# The kinematic tree over the limbs, parents before children: re-projection keeps these lengths.
LIMB_TREE = [
    (f"{side}_{parent}", f"{side}_{child}")
    for side in ("left", "right")
    for parent, child in [("hip", "knee"), ("knee", "ankle"), ("ankle", "heel"), ("ankle", "foot_index"),
                          ("shoulder", "elbow"), ("elbow", "wrist"), ("wrist", "pinky"), ("wrist", "index"),
                          ("wrist", "thumb")]
]
# Distances between joints that are rigid in a body but not limbs of the tree: across the hips and the
# shoulders (kept about their midpoint before the tree is walked) and across a hand (kept by the
# angle between its two limbs from the wrist after it).
SPANS = [("left_hip", "right_hip"), ("left_shoulder", "right_shoulder")]
HAND_SPANS = [(f"{side}_wrist", f"{side}_pinky", f"{side}_index") for side in ("left", "right")]


def span_pairs() -> list[tuple[str, str]]:
    """Every pair of joints whose distance decoding keeps: LIMB_TREE's limbs, SPANS, the hands' spans."""
    return LIMB_TREE + SPANS + [(a, b) for _, a, b in HAND_SPANS]


def bone_lengths(clip: MotionClip) -> dict[str, float]:
    """Median length ('parent>child': metres) of every limb of LIMB_TREE, and of every span, over the
    frames where both its ends are valid."""
    lengths = {}
    for parent, child in span_pairs():
        both = clip.valid[:, INDEX[parent]] & clip.valid[:, INDEX[child]]
        if both.any():
            span = clip.positions[both, INDEX[child]] - clip.positions[both, INDEX[parent]]
            lengths[f"{parent}>{child}"] = float(np.median(np.linalg.norm(span, axis=-1)))
    return lengths


def merged_bone_lengths(clips: list[MotionClip]) -> dict[str, float]:
    """Median over clips of each limb's length (limbs no clip has are left out)."""
    per_clip = [bone_lengths(clip) for clip in clips]
    names = sorted({name for lengths in per_clip for name in lengths})
    return {name: float(np.median([lengths[name] for lengths in per_clip if name in lengths])) for name in names}


def reproject_bones(positions: np.ndarray, valid: np.ndarray, lengths: dict[str, float]) -> np.ndarray:
    """Walk LIMB_TREE from the hips and shoulders outwards and put each child at its limb's length
    along the parent->child direction; the child's descendants move with it. Frames where a limb
    has an invalid end, or a zero-length direction, keep that limb as it is."""
    old = np.asarray(positions, dtype=np.float64)
    new = old.copy()
    for parent, child in LIMB_TREE:
        p, c = INDEX[parent], INDEX[child]
        carried = old[:, c] + (new[:, p] - old[:, p])  # where the limb is not re-projected it moves with its parent
        length = lengths.get(f"{parent}>{child}")
        if not length:
            new[:, c] = carried
            continue
        direction = old[:, c] - old[:, p]
        norm = np.linalg.norm(direction, axis=-1, keepdims=True)
        ok = valid[:, p] & valid[:, c] & (norm[:, 0] > 1e-9)
        placed = new[:, p] + direction / np.maximum(norm, 1e-9) * length
        new[:, c] = np.where(ok[:, None], placed, carried)
    return new.astype(np.float32)


def fix_spans(positions: np.ndarray, valid: np.ndarray, lengths: dict[str, float]) -> np.ndarray:
    """Each SPANS pair moved apart or together about its midpoint to its length, where both ends are
    valid and the span has a length; the limbs hanging from it move with their end."""
    new = np.asarray(positions, dtype=np.float64).copy()
    for a, b in SPANS:
        length = lengths.get(f"{a}>{b}")
        if not length:
            continue
        i, j = INDEX[a], INDEX[b]
        half = (new[:, i] - new[:, j]) / 2
        norm = np.linalg.norm(half, axis=-1, keepdims=True)
        ok = (valid[:, i] & valid[:, j] & (norm[:, 0] > 1e-9))[:, None]
        shift = np.where(ok, half / np.maximum(norm, 1e-9) * (length / 2) - half, 0.0)
        for joint, sign in ((i, 1.0), (j, -1.0)):
            moved = [joint] + descendants(joint)
            new[:, moved] += sign * shift[:, None, :]
    return new


def descendants(joint: int) -> list[int]:
    """Joints below `joint` in LIMB_TREE."""
    below, frontier = [], [joint]
    while frontier:
        children = [INDEX[c] for p, c in LIMB_TREE if INDEX[p] in frontier]
        below += children
        frontier = children
    return below


def fix_hands(positions: np.ndarray, valid: np.ndarray, lengths: dict[str, float]) -> np.ndarray:
    """Open or close each hand's two limbs from the wrist (to the pinky and the index), symmetrically
    in their plane, to the angle that puts them the hand's span apart (the law of cosines); their
    lengths from the wrist stay as they are."""
    new = np.asarray(positions, dtype=np.float64).copy()
    for wrist, first, second in HAND_SPANS:
        span = lengths.get(f"{first}>{second}")
        w, p, q = INDEX[wrist], INDEX[first], INDEX[second]
        if not span or not (valid[:, [w, p, q]].any()):
            continue
        to_p, to_q = new[:, p] - new[:, w], new[:, q] - new[:, w]
        lp, lq = np.linalg.norm(to_p, axis=-1), np.linalg.norm(to_q, axis=-1)
        cos = np.clip((lp ** 2 + lq ** 2 - span ** 2) / np.maximum(2 * lp * lq, 1e-12), -1.0, 1.0)
        half = np.arccos(cos)[:, None] / 2
        unit_p, unit_q = to_p / np.maximum(lp, 1e-9)[:, None], to_q / np.maximum(lq, 1e-9)[:, None]
        middle = unit_p + unit_q
        middle /= np.maximum(np.linalg.norm(middle, axis=-1, keepdims=True), 1e-9)
        across = unit_p - (unit_p * middle).sum(-1, keepdims=True) * middle
        across /= np.maximum(np.linalg.norm(across, axis=-1, keepdims=True), 1e-9)
        ok = (valid[:, w] & valid[:, p] & valid[:, q] & (lp > 1e-9) & (lq > 1e-9)
              & (np.linalg.norm(across, axis=-1) > 0.5) & (np.abs(cos) < 1.0))[:, None]
        placed_p = new[:, w] + lp[:, None] * (np.cos(half) * middle + np.sin(half) * across)
        placed_q = new[:, w] + lq[:, None] * (np.cos(half) * middle - np.sin(half) * across)
        new[:, p], new[:, q] = np.where(ok, placed_p, new[:, p]), np.where(ok, placed_q, new[:, q])
    return new


def rigid_skeleton(positions: np.ndarray, valid: np.ndarray, lengths: dict[str, float]) -> np.ndarray:
    """Positions with every known limb and span at its length: spans, then the limb tree, then hands."""
    return fix_hands(reproject_bones(fix_spans(positions, valid, lengths), valid, lengths), valid,
                     lengths).astype(np.float32)


