import numpy as np
import pytest
import torch

from genseq.core.errors import GenseqError
from genseq.core.motion import MotionClip
from genseq.model import heads
from genseq.motion.encode import (
    LIMB_TREE, ROOT_SIZE, DanceEncoding, bone_lengths, fit_encoding, headings, local_positions, mirror_clip,
    fix_hands, fix_spans, reproject_bones, rigid_skeleton, root_state, rotate_y, span_pairs,
)
from genseq.motion.skeleton import INDEX, LANDMARKS
from tests.motion.conftest import moving_clip, bvh_like, turned, video_like

def test_round_trip_reproduces_positions_to_a_millimetre():
    clip = moving_clip(120)
    encoding = fit_encoding([clip], 30.0)
    assert encoding.joints == list(range(33)) and encoding.value_size == 33 * 3 + ROOT_SIZE
    features = encoding.features(clip)
    normal = encoding.normalise(features.values, features.mask)
    decoded = encoding.decode(encoding.denormalise(normal), features.origin)
    assert np.abs(decoded - clip.positions).max() < 1e-3


def test_decoding_continues_from_a_root_state():
    clip = moving_clip(60)
    encoding = fit_encoding([clip], 30.0)
    features = encoding.features(clip)
    decoded = encoding.decode(features.values[30:], root_state(clip, 29))
    assert np.abs(decoded - clip.positions[30:]).max() < 1e-3


def test_features_do_not_depend_on_heading_or_place():
    clip = moving_clip(60)
    encoding = fit_encoding([clip], 30.0)
    plain, moved = encoding.features(clip), encoding.features(turned(clip, 2.4))
    np.testing.assert_allclose(moved.values, plain.values, atol=1e-4)
    np.testing.assert_allclose(local_positions(turned(clip, -1.0)), local_positions(clip), atol=1e-5)


def test_heading_follows_the_hip_line():
    clip = turned(moving_clip(2), 0.0)
    still = MotionClip(np.repeat(clip.positions[:1], 2, axis=0), clip.valid, 30.0, list(LANDMARKS))
    angle = 0.7
    np.testing.assert_allclose(headings(turned(still, angle).positions, still.valid) - headings(still.positions, still.valid),
                               angle, atol=1e-5)


def test_mirror_twice_is_the_identity_and_matches_the_mirrored_clip():
    clip = moving_clip(50)
    encoding = fit_encoding([clip], 30.0)
    features = encoding.features(clip)
    once, once_mask = encoding.mirror_values(features.values, features.mask)
    twice, twice_mask = encoding.mirror_values(once, once_mask)
    np.testing.assert_array_equal(twice, features.values)
    np.testing.assert_array_equal(twice_mask, features.mask)
    np.testing.assert_allclose(encoding.features(mirror_clip(clip)).values, once, atol=1e-5)
    np.testing.assert_array_equal(mirror_clip(mirror_clip(clip)).positions, clip.positions)
    heading_change = encoding.joint_size + 3
    np.testing.assert_allclose(once[:, heading_change], -features.values[:, heading_change])


def test_mirror_with_velocity_features():
    clip = moving_clip(40)
    encoding = fit_encoding([clip], 30.0, velocities=True)
    assert encoding.value_size == 2 * 99 + ROOT_SIZE
    features = encoding.features(clip)
    np.testing.assert_array_equal(encoding.mirror_values(*encoding.mirror_values(features.values, features.mask))[0],
                                  features.values)
    np.testing.assert_allclose(encoding.features(mirror_clip(clip)).values,
                               encoding.mirror_values(features.values), atol=1e-5)


def test_normalisation_is_symmetric_under_mirroring():
    encoding = fit_encoding([moving_clip(60)], 30.0, mirror=True)
    lateral = encoding.joint_size  # mean lateral root velocity: the mirror images cancel
    assert abs(encoding.mean[lateral]) < 1e-6 and abs(encoding.mean[lateral + 3]) < 1e-6


def test_bone_reprojection_keeps_limb_lengths_exact():
    clip = moving_clip(40)
    target = bone_lengths(clip)
    rng = np.random.default_rng(1)
    stretched = clip.positions.copy()
    for _, child in LIMB_TREE:  # move every limb end, so every limb stretches or shrinks
        stretched[:, INDEX[child]] += rng.normal(0, 0.05, (40, 3))
    fixed = reproject_bones(stretched, clip.valid, target)
    for parent, child in LIMB_TREE:
        lengths = np.linalg.norm(fixed[:, INDEX[child]] - fixed[:, INDEX[parent]], axis=-1)
        np.testing.assert_allclose(lengths, target[f"{parent}>{child}"], rtol=1e-5)
    for anchor in ("left_hip", "right_hip", "left_shoulder", "right_shoulder", "nose"):
        np.testing.assert_array_equal(fixed[:, INDEX[anchor]], stretched[:, INDEX[anchor]])


def test_reprojection_moves_descendants_with_their_parent():
    clip = moving_clip(5)
    lengths = {"left_elbow>left_wrist": 1.0}  # only the forearm changes: the hand goes with the wrist
    fixed = reproject_bones(clip.positions, clip.valid, lengths)
    wrist, elbow = INDEX["left_wrist"], INDEX["left_elbow"]
    np.testing.assert_allclose(np.linalg.norm(fixed[:, wrist] - fixed[:, elbow], axis=-1), 1.0, rtol=1e-6)
    for point in ("left_index", "left_pinky", "left_thumb"):
        np.testing.assert_allclose(fixed[:, INDEX[point]] - fixed[:, wrist],
                                   clip.positions[:, INDEX[point]] - clip.positions[:, wrist], atol=1e-6)


def test_unseen_landmarks_are_not_modelled_and_decode_invalid():
    clip = bvh_like(moving_clip(60))
    encoding = fit_encoding([clip], 30.0)
    assert len(encoding.joints) == 22 and encoding.value_size == 70
    features = encoding.features(clip)
    out = encoding.to_clip(encoding.normalise(features.values), features.origin, lengths={}, smoothing=0.0,
                           plant_feet=False)
    np.testing.assert_array_equal(out.valid, clip.valid)
    assert np.isfinite(out.positions).all()
    assert np.abs(out.positions[out.valid] - clip.positions[clip.valid]).max() < 1e-3


def test_input_is_the_previous_target():
    clip = moving_clip(30)
    encoding = fit_encoding([clip], 30.0)
    piece = encoding.piece(encoding.features(clip))
    assert piece.inputs.shape == piece.targets.shape == (29, encoding.value_size)
    np.testing.assert_array_equal(piece.inputs[1:], piece.targets[:-1])


def test_masked_joints_do_not_affect_the_loss():
    valid = np.ones((40, 33), dtype=bool)
    valid[10:20, INDEX["left_wrist"]] = False
    valid[5, INDEX["right_knee"]] = False
    clip = moving_clip(40, valid=valid)
    garbage = clip.positions.copy()
    garbage[~valid] = np.random.default_rng(0).normal(0, 50, (int((~valid).sum()), 3))
    encoding = fit_encoding([clip], 30.0)
    pieces = [encoding.piece(encoding.features(MotionClip(p, valid, 30.0, list(LANDMARKS)))) for p in (clip.positions, garbage)]
    np.testing.assert_array_equal(pieces[0].inputs, pieces[1].inputs)
    np.testing.assert_array_equal(pieces[0].targets, pieces[1].targets)
    mask = torch.from_numpy(pieces[0].target_mask)[None]
    assert mask.sum() < mask.numel()
    targets = torch.from_numpy(pieces[0].targets)[None]
    size = encoding.value_size
    outputs = torch.randn(1, len(targets[0]), heads.output_size("mdn", size, 3), generator=torch.Generator().manual_seed(0))
    changed = targets + (1 - mask) * 100.0  # whatever sits in the masked targets
    np.testing.assert_allclose(heads.step_losses("mdn", outputs, targets, mask), heads.step_losses("mdn", outputs, changed, mask))
    assert (pieces[0].inputs[10:20][:, 3 * INDEX["left_wrist"]:3 * INDEX["left_wrist"] + 3] == 0).all()


def test_metadata_survives_a_weights_only_checkpoint(tmp_path):
    encoding = fit_encoding([bvh_like(moving_clip(60))], 30.0)
    torch.save({"representation": encoding.metadata()}, tmp_path / "x.pt")
    metadata = torch.load(tmp_path / "x.pt", weights_only=True)["representation"]
    loaded = DanceEncoding.from_metadata(metadata)
    assert loaded.joints == encoding.joints and loaded.bone_lengths == encoding.bone_lengths
    np.testing.assert_array_equal(loaded.mean, encoding.mean)
    np.testing.assert_array_equal(loaded.start_values, encoding.start_values)
    assert loaded.start_values.shape == (30, 70)


def test_clip_at_another_frame_rate_is_refused():
    encoding = fit_encoding([moving_clip(30)], 30.0)
    with pytest.raises(GenseqError, match="60 fps"):
        encoding.features(moving_clip(30, fps=60.0))


def test_clips_without_hips_cannot_be_encoded():
    valid = np.ones((30, 33), dtype=bool)
    valid[:, [INDEX["left_hip"], INDEX["right_hip"]]] = False
    with pytest.raises(GenseqError, match="hips"):
        fit_encoding([moving_clip(30, valid=valid)], 30.0)


def test_video_clips_have_no_root_trajectory():
    clip = video_like(moving_clip(60))
    encoding = fit_encoding([clip], 30.0)
    root = encoding.joint_size
    features = encoding.features(clip)
    assert not features.mask[:, root:root + 3].any() and features.mask[:, root + 3].all()
    assert encoding.unknown == [root, root + 1, root + 2]
    assert DanceEncoding.from_metadata(encoding.metadata()).unknown == encoding.unknown


def distance(positions: np.ndarray, a: str, b: str) -> np.ndarray:
    return np.linalg.norm(positions[:, INDEX[a]] - positions[:, INDEX[b]], axis=-1)


def test_the_skeleton_keeps_hip_shoulder_and_hand_spans_as_well_as_limbs():
    clip = moving_clip(40)
    target = bone_lengths(clip)
    assert {"left_hip>right_hip", "left_shoulder>right_shoulder", "left_pinky>left_index"} <= set(target)
    rng = np.random.default_rng(2)
    noisy = clip.positions + rng.normal(0, 0.03, clip.positions.shape)  # every joint shakes
    fixed = rigid_skeleton(noisy, clip.valid, target)
    for pair in span_pairs():
        np.testing.assert_allclose(distance(fixed, *pair), target[">".join(pair)], rtol=1e-4, err_msg=str(pair))
    middle = lambda p: (p[:, INDEX["left_hip"]] + p[:, INDEX["right_hip"]]) / 2  # noqa: E731
    np.testing.assert_allclose(middle(fixed), middle(noisy), atol=1e-5)  # spans change about their midpoint


def test_a_span_moves_the_limbs_hanging_from_it():
    clip = moving_clip(5)
    lengths = {"left_shoulder>right_shoulder": 1.0}
    fixed = fix_spans(clip.positions, clip.valid, lengths)
    np.testing.assert_allclose(distance(fixed, "left_shoulder", "right_shoulder"), 1.0, rtol=1e-6)
    for arm in ("left_elbow", "left_wrist", "left_thumb"):
        np.testing.assert_allclose(fixed[:, INDEX[arm]] - fixed[:, INDEX["left_shoulder"]],
                                   clip.positions[:, INDEX[arm]] - clip.positions[:, INDEX["left_shoulder"]], atol=1e-6)
    np.testing.assert_allclose(fixed[:, INDEX["left_hip"]], clip.positions[:, INDEX["left_hip"]])


def test_a_hand_opens_to_its_span_keeping_its_limbs_from_the_wrist():
    clip = moving_clip(5)
    lengths = {"left_pinky>left_index": 0.05}
    fixed = fix_hands(clip.positions, clip.valid, lengths)
    np.testing.assert_allclose(distance(fixed, "left_pinky", "left_index"), 0.05, rtol=1e-5)
    for point in ("left_pinky", "left_index"):
        np.testing.assert_allclose(distance(fixed, "left_wrist", point), distance(clip.positions, "left_wrist", point),
                                   rtol=1e-6)


def test_lengths_without_spans_as_older_checkpoints_store_them_leave_spans_alone():
    clip = moving_clip(20)
    limbs_only = {f"{p}>{c}": v for (p, c), v in zip(LIMB_TREE, [0.3] * len(LIMB_TREE))}
    fixed = rigid_skeleton(clip.positions, clip.valid, limbs_only)
    np.testing.assert_allclose(fixed, reproject_bones(clip.positions, clip.valid, limbs_only), atol=1e-6)


def test_generated_frames_are_low_passed_before_decoding():
    clip = moving_clip(90)
    encoding = fit_encoding([clip], 30.0)
    features = encoding.features(clip)
    normal = encoding.normalise(features.values)
    shaky = normal + np.random.default_rng(0).normal(0, 0.3, normal.shape).astype(np.float32)
    jerk = lambda c: np.abs(np.diff(local_positions(c), n=3, axis=0)).mean()  # noqa: E731
    raw = encoding.to_clip(shaky, features.origin, smoothing=0.0, plant_feet=False)
    smooth = encoding.to_clip(shaky, features.origin, plant_feet=False)
    assert jerk(smooth) < 0.3 * jerk(raw)
