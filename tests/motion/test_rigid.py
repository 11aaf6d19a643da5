"""Rigid decoding (genseq.motion.rigid): limbs and spans come back at the lengths asked, the rest stays."""

import numpy as np

from genseq.core.motion import MotionClip
from genseq.motion.rigid import bone_lengths, merged_bone_lengths, rigid_skeleton, span_pairs
from genseq.motion.skeleton import INDEX
from tests.motion.conftest import moving_clip


def distance(positions: np.ndarray, a: str, b: str) -> np.ndarray:
    return np.linalg.norm(positions[:, INDEX[b]] - positions[:, INDEX[a]], axis=-1)


def stretched(clip: MotionClip, seed: int = 1) -> np.ndarray:
    """The clip's joints jittered by a few centimetres, so every limb and span has a wrong length."""
    return clip.positions + np.random.default_rng(seed).normal(0, 0.03, clip.positions.shape).astype(np.float32)


def test_every_limb_and_span_comes_back_at_its_length():
    clip = moving_clip(60)
    lengths = bone_lengths(clip)
    assert set(lengths) == {f"{a}>{b}" for a, b in span_pairs()}
    fixed = rigid_skeleton(stretched(clip), clip.valid, lengths)
    assert fixed.dtype == np.float32 and fixed.shape == clip.positions.shape
    for name, length in lengths.items():
        a, b = name.split(">")
        np.testing.assert_allclose(distance(fixed, a, b), length, atol=2e-3, err_msg=name)
    jittered = stretched(clip)
    assert max(abs(distance(jittered, *n.split(">")) - lengths[n]).max() for n in lengths) > 0.02  # it was wrong


def test_a_limb_with_an_invalid_end_is_left_as_it_is():
    clip = moving_clip(30)
    valid = clip.valid.copy()
    valid[:, INDEX["left_wrist"]] = False
    jittered = stretched(clip)
    fixed = rigid_skeleton(jittered, valid, bone_lengths(clip))
    np.testing.assert_allclose(distance(fixed, "left_elbow", "left_wrist"), distance(jittered, "left_elbow", "left_wrist"),
                               atol=1e-5)


def test_lengths_without_a_pair_are_left_alone_and_clips_merge_by_median():
    clip = moving_clip(30)
    limbs_only = {k: v for k, v in bone_lengths(clip).items() if k != "left_hip>right_hip"}  # an older checkpoint's
    jittered = stretched(clip)
    fixed = rigid_skeleton(jittered, clip.valid, limbs_only)
    assert np.isfinite(fixed).all()
    a, b = bone_lengths(moving_clip(30, seed=0)), bone_lengths(moving_clip(30, seed=3))
    merged = merged_bone_lengths([moving_clip(30, seed=0), moving_clip(30, seed=3)])
    assert merged.keys() == a.keys() and all(np.isclose(merged[k], (a[k] + b[k]) / 2) for k in a)
