import numpy as np
import pytest

from genseq.motion import metrics
from genseq.motion.skeleton import BONE_INDICES, INDEX
from tests.motion.conftest import moving_clip

FPS = 30.0


def frozen(positions: np.ndarray, frames: int) -> np.ndarray:
    return np.repeat(positions[:1], frames, axis=0)


def all_valid(positions: np.ndarray) -> np.ndarray:
    return np.ones(positions.shape[:2], dtype=bool)


def test_a_frozen_generation_has_a_speed_ratio_near_zero():
    real = moving_clip(300).positions
    still = frozen(real, 300)
    real_windows = metrics.windowed_mean_speed(real, all_valid(real), FPS)
    still_windows = metrics.windowed_mean_speed(still, all_valid(still), FPS)
    assert len(real_windows) == 300 - 150 + 1
    assert metrics.min_window_speed_ratio([still_windows], [real_windows]) < 1e-6
    assert 0.5 < metrics.min_window_speed_ratio([real_windows], [real_windows]) <= 1.0


def test_freezing_after_a_while_is_caught_by_the_slowest_window():
    real = moving_clip(600).positions
    freezes = np.concatenate([real[:300], frozen(real[299:], 300)])
    windows = metrics.windowed_mean_speed(freezes, all_valid(freezes), FPS)
    reference = metrics.windowed_mean_speed(real, all_valid(real), FPS)
    assert metrics.min_window_speed_ratio([reference, windows], [reference]) < 1e-6


def test_windowed_speed_of_a_joint_moving_at_constant_speed():
    frames = 200
    positions = np.zeros((frames, 2, 3))
    positions[:, 0, 0] = np.arange(frames) * 0.05  # 1.5 m/s at 30 fps
    valid = all_valid(positions)
    valid[:, 1] = False  # the still joint does not count
    np.testing.assert_allclose(metrics.windowed_mean_speed(positions, valid, FPS, stride_seconds=1.0), 1.5)
    features = metrics.kinetic_features(positions, valid, FPS)
    np.testing.assert_allclose(features[:, :3], np.tile([1.5, 0.0, 0.0], (len(features), 1)), atol=1e-9)
    assert np.isnan(features[:, 3:]).all()


def test_identical_sets_have_zero_frechet_distance():
    clip = moving_clip(400)
    features = metrics.kinetic_features(clip.positions, clip.valid, FPS)
    assert features.shape == (400 // 30 - 4 + 1, 33 * 3) or features.shape[1] == 99
    assert metrics.frechet_distance(features, features) < 1e-6


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift_in_reference_units():
    rng = np.random.default_rng(0)
    reference = rng.normal(0, 2.0, (500, 3))
    shifted = reference + np.array([4.0, 0.0, 0.0])  # 2 standard deviations along the first axis
    reference_std = reference.std(axis=0)[0]
    np.testing.assert_allclose(metrics.frechet_distance(shifted, reference), (4.0 / reference_std) ** 2, rtol=1e-6)
    wider = reference * 3
    assert metrics.frechet_distance(wider, reference) > metrics.frechet_distance(reference * 1.5, reference) > 0


def test_frechet_distance_is_finite_with_fewer_windows_than_features():
    rng = np.random.default_rng(1)
    assert np.isfinite(metrics.frechet_distance(rng.normal(size=(5, 60)), rng.normal(size=(7, 60))))


def test_frechet_distance_grows_for_a_frozen_or_jittery_generation():
    real = moving_clip(600, seed=1)
    other = moving_clip(600, seed=2)
    reference = metrics.kinetic_features(real.positions, real.valid, FPS)
    similar = metrics.kinetic_features(other.positions, other.valid, FPS)
    jitter = other.positions + np.random.default_rng(0).normal(0, 0.02, other.positions.shape)
    jittery = metrics.kinetic_features(jitter, other.valid, FPS)
    still = frozen(other.positions, 600) + np.random.default_rng(1).normal(0, 1e-4, other.positions.shape)
    frozen_features = metrics.kinetic_features(still, other.valid, FPS)
    close = metrics.frechet_distance(similar, reference)
    assert metrics.frechet_distance(jittery, reference) > 10 * close
    assert metrics.frechet_distance(frozen_features, reference) > 10 * close


def test_diversity_is_zero_for_identical_samples_and_positive_otherwise():
    clips = [moving_clip(300, seed=s) for s in range(3)]
    features = [metrics.kinetic_features(c.positions, c.valid, FPS) for c in clips]
    reference = np.concatenate(features)
    assert metrics.diversity([features[0]] * 3, reference) == pytest.approx(0.0, abs=1e-9)
    assert metrics.diversity(features, reference) > 0
    assert metrics.diversity(features[:1], reference) == 0.0


def test_bone_length_error_is_zero_for_a_rigid_skeleton_and_measures_stretching():
    positions = frozen(moving_clip(2).positions, 50).astype(np.float64)
    valid = all_valid(positions)
    assert metrics.bone_length_error(positions, valid, BONE_INDICES) < 1e-6
    stretched = positions.copy()
    hip, knee = INDEX["left_hip"], INDEX["left_knee"]
    scale = np.where(np.arange(50) % 2 == 0, 0.9, 1.1)[:, None]
    stretched[:, knee] = stretched[:, hip] + (stretched[:, knee] - stretched[:, hip]) * scale
    one_bone = metrics.bone_length_error(stretched, valid, [(hip, knee)])
    assert one_bone == pytest.approx(0.1, rel=1e-6)
    valid[:, knee] = False
    assert np.isnan(metrics.bone_length_error(stretched, valid, [(hip, knee)]))


def test_foot_sliding_is_zero_for_planted_feet_and_the_slide_speed_otherwise():
    frames = 120
    positions = np.zeros((frames, 2, 3))
    positions[:, 1, 1] = 0.3 + 0.2 * np.sin(np.arange(frames) / 5)  # a foot in the air moves freely
    positions[:, 1, 0] = np.arange(frames) * 0.1
    valid = all_valid(positions)
    assert metrics.foot_sliding(positions, valid, FPS, [[0], [1]]) == 0.0
    positions[:, 0, 2] = np.arange(frames) * 0.02  # slides along the floor at 0.6 m/s
    assert metrics.foot_sliding(positions, valid, FPS, [[0], [1]]) == pytest.approx(0.6)
    valid[:, :] = False
    assert np.isnan(metrics.foot_sliding(positions, valid, FPS, [[0], [1]]))


def test_foot_sliding_uses_the_lowest_point_of_a_foot():
    frames = 60
    positions = np.zeros((frames, 2, 3))
    positions[:, 0, 1] = 0.08  # the ankle sits above the floor, the toe on it
    positions[:, 0, 0] = np.arange(frames) * 0.01  # the ankle swings, the toe stays put (a pivot)
    valid = all_valid(positions)
    assert metrics.foot_sliding(positions, valid, FPS, [[0, 1]]) == 0.0


# ---------------------------------------------------------------------------------------------
# Per-window kinematic statistics (genseq.motion.kinematics)

from genseq.motion import kinematics  # noqa: E402
from genseq.motion.encode import hip_roots, local_positions  # noqa: E402

WRISTS = [INDEX["left_wrist"], INDEX["right_wrist"]]
FEET = [[INDEX[f"{side}_{part}"] for part in ("ankle", "heel", "foot_index")] for side in ("left", "right")]


def statistics_of(clip):
    return kinematics.window_statistics(local_positions(clip), clip.positions, clip.valid, FPS, WRISTS, FEET,
                                        hip_roots(clip.positions))


def test_window_statistics_of_a_joint_oscillating_at_a_known_rate():
    frames, omega, amplitude = 300, 2 * np.pi * 1.0, 0.1
    time = np.arange(frames) / FPS
    local = np.zeros((frames, 1, 3))
    local[:, 0, 0] = amplitude * np.sin(omega * time)
    valid = np.ones((frames, 1), dtype=bool)
    stats = kinematics.window_statistics(local, local, valid, FPS, [0], [[0]], np.zeros((frames, 3)))
    # mean |sin| is 2/pi: speed A w 2/pi, acceleration A w^2 2/pi, jerk A w^3 2/pi (finite differences: close)
    np.testing.assert_allclose(stats["pose_speed"], amplitude * omega * 2 / np.pi, rtol=0.02)
    np.testing.assert_allclose(stats["acceleration"], amplitude * omega ** 2 * 2 / np.pi, rtol=0.03)
    np.testing.assert_allclose(stats["jerk"], amplitude * omega ** 3 * 2 / np.pi, rtol=0.05)
    np.testing.assert_allclose(stats["wrist_speed"], stats["pose_speed"])
    assert len(stats["pose_speed"]) == (frames - 150) // 30 + 1
    np.testing.assert_allclose(stats["root_speed"], 0.0)
    np.testing.assert_allclose(stats["body_extent"], amplitude * 2 / np.pi, rtol=0.02)


def test_jitter_raises_jerk_far_more_than_speed():
    clip = moving_clip(600)
    shaky = clip.positions + np.random.default_rng(0).normal(0, 0.005, clip.positions.shape)
    smooth = statistics_of(clip)
    jittery = statistics_of(type(clip)(shaky, clip.valid, clip.fps, clip.joint_names))
    ratio = lambda name: jittery[name].mean() / smooth[name].mean()  # noqa: E731
    assert ratio("jerk") > 3 * ratio("pose_speed") and ratio("jerk") > 5


def test_statistic_table_distances_are_in_real_standard_deviations():
    real = {name: np.array([1.0, 3.0]) for name in kinematics.STATISTICS}  # mean 2, sd 1
    generated = {name: np.array([4.0, 4.0]) for name in kinematics.STATISTICS}
    table = kinematics.statistic_table(generated, real)
    assert table["jerk"] == pytest.approx({"real_mean": 2.0, "real_sd": 1.0, "generated_mean": 4.0, "generated_sd": 0.0,
                                           "distance_sd": 2.0, "spread_ratio": 0.0})
    assert kinematics.worst_distance(table) == pytest.approx(2.0)
    wider = kinematics.statistic_table({name: np.array([0.0, 3.0]) for name in kinematics.STATISTICS}, real)
    assert wider["pose_speed"]["spread_ratio"] == pytest.approx(1.5) and kinematics.narrowest_spread(wider) == pytest.approx(1.5)


def test_speed_variation_is_higher_for_bursts_than_for_an_even_pace():
    even = moving_clip(300)
    bursts = even.positions.copy()
    bursts[150:] = bursts[150]  # moves for 5 s, then stands still
    still_half = type(even)(bursts, even.valid, even.fps, even.joint_names)
    steady, varied = statistics_of(even)["speed_variation"], statistics_of(still_half)["speed_variation"]
    assert np.all(np.isfinite(steady)) and steady.max() < 0.5
    assert varied[2:-2].min() > steady.max()  # windows that hold both the moving and the still part


def test_a_replayed_window_is_at_distance_zero_from_the_training_windows():
    clip = moving_clip(300)
    keys = kinematics.pose_windows(local_positions(clip), FPS, stride_frames=3)
    replayed = kinematics.pose_windows(local_positions(clip)[30:], FPS, stride_frames=30)
    other = kinematics.pose_windows(local_positions(moving_clip(300, seed=3)) * 1.2, FPS)
    assert np.allclose(kinematics.nearest_distances(replayed, keys), 0.0, atol=1e-3)
    assert kinematics.nearest_distances(other, keys).min() > 0.01
