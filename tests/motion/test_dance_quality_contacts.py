"""Foot locking (genseq.motion.contacts): planted feet stay put, the legs bend to follow, lengths kept."""

import numpy as np
import pytest

from genseq.motion import metrics
from genseq.motion.contacts import lock_feet
from genseq.motion.skeleton import INDEX
from tests.motion.conftest import rest_pose

FPS = 30.0
FEET = [[INDEX[f"{side}_{part}"] for part in ("ankle", "heel", "foot_index")] for side in ("left", "right")]


def sliding_body(frames: int = 60) -> np.ndarray:
    """A standing body whose left foot (and shin) slides forward 1 cm a frame on the floor; the right
    foot swings in the air."""
    positions = np.repeat(rest_pose()[None], frames, axis=0)
    slide = np.arange(frames) * 0.01
    for part in ("ankle", "heel", "foot_index"):
        positions[:, INDEX[f"left_{part}"], 2] += slide
        positions[:, INDEX[f"right_{part}"], 1] += 0.2 + 0.05 * np.sin(np.arange(frames) / 3)
    positions[:, INDEX["left_knee"], 2] += slide / 2
    return positions


def length(positions, a, b):
    return np.linalg.norm(positions[:, INDEX[a]] - positions[:, INDEX[b]], axis=-1)


def test_a_planted_foot_stops_sliding_and_the_leg_keeps_its_lengths():
    positions = sliding_body()
    valid = np.ones(positions.shape[:2], dtype=bool)
    assert metrics.foot_sliding(positions, valid, FPS, FEET) > 0.25
    locked = lock_feet(positions, valid)
    assert metrics.foot_sliding(locked, valid, FPS, FEET) < 0.02
    for a, b in (("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("left_ankle", "left_foot_index")):
        np.testing.assert_allclose(length(locked, a, b), length(positions, a, b), rtol=1e-4)
    np.testing.assert_array_equal(locked[:, INDEX["left_hip"]], positions[:, INDEX["left_hip"]].astype(np.float32))


def test_a_foot_in_the_air_and_the_upper_body_are_left_alone():
    positions = sliding_body()
    valid = np.ones(positions.shape[:2], dtype=bool)
    locked = lock_feet(positions, valid)
    for name in ("right_ankle", "right_knee", "right_foot_index", "left_wrist", "nose"):
        np.testing.assert_allclose(locked[:, INDEX[name]], positions[:, INDEX[name]], atol=1e-6)


def test_no_valid_feet_changes_nothing():
    positions = sliding_body(10)
    valid = np.ones(positions.shape[:2], dtype=bool)
    for points in FEET:
        valid[:, points] = False
    np.testing.assert_allclose(lock_feet(positions, valid), positions, atol=1e-6)


def floating_body(frames: int = 420) -> np.ndarray:
    """The sliding body of sliding_body, raised 5 cm for its middle 8 s (a generated dance's drift)."""
    positions = sliding_body(frames)
    positions[90:330, :, 1] += 0.05
    return positions


def test_a_body_that_floats_is_put_back_on_the_floor_and_its_foot_held_there():
    from genseq.motion.contacts import ground_body

    positions = floating_body()
    valid = np.ones(positions.shape[:2], dtype=bool)
    grounded = ground_body(positions, valid, FPS)
    lowest = grounded[:, FEET[0], 1].min(axis=1)
    assert np.ptp(lowest[180:240]) < 0.01 and abs(lowest[210] - lowest[30]) < 0.01  # the raised stretch is down again
    middle = slice(180, 240)
    plain = metrics.foot_sliding(lock_feet(positions, valid)[middle], valid[middle], FPS, FEET)
    held = metrics.foot_sliding(lock_feet(positions, valid, fps=FPS)[middle], valid[middle], FPS, FEET)
    assert plain > 0.2 and held < 0.02  # measured on its own stretch, the floating foot slid


def test_slip_lets_a_held_foot_follow_that_fraction_of_its_motion():
    positions = sliding_body()
    valid = np.ones(positions.shape[:2], dtype=bool)
    raw = metrics.foot_sliding(positions, valid, FPS, FEET)
    slipping = metrics.foot_sliding(lock_feet(positions, valid, slip=0.25), valid, FPS, FEET)
    assert slipping == pytest.approx(0.25 * raw, rel=0.15)


def test_real_motion_capture_is_hardly_moved_by_grounding():
    from genseq.motion.contacts import ground_body

    positions = sliding_body(300)
    valid = np.ones(positions.shape[:2], dtype=bool)
    np.testing.assert_allclose(ground_body(positions, valid, FPS), positions, atol=1e-6)
