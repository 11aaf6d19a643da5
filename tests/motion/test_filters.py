import numpy as np
import pytest

from genseq.motion.filters import DEFAULT_SMOOTHING, OneEuroParams, interpolate_gaps, one_euro, smoothing_params

FPS = 30.0
DEFAULT = smoothing_params(DEFAULT_SMOOTHING)


def noisy_slow_sine(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ten seconds of a slowly swaying joint (5 cm, 0.1 Hz) with 1 cm of per-frame jitter, 4 joints x 3 axes."""
    t = np.arange(300) / FPS
    clean = np.broadcast_to((0.05 * np.sin(2 * np.pi * 0.1 * t))[:, None, None], (300, 4, 3))
    return clean, clean + np.random.default_rng(seed).normal(0.0, 0.01, clean.shape)


def test_jitter_is_reduced_on_a_noisy_sine():
    clean, noisy = noisy_slow_sine()
    filtered = one_euro(noisy, FPS, DEFAULT)
    settled = slice(30, None)  # the first second: the filter starts from one noisy sample
    error_before = (noisy - clean)[settled].std()
    error_after = (filtered - clean)[settled].std()
    assert error_after < error_before / 1.8  # about 2.2x; lag on the moving sine keeps it from going lower
    jitter_before = np.diff(noisy, 2, axis=0).std()
    jitter_after = np.diff(filtered, 2, axis=0).std()
    assert jitter_after < jitter_before / 4  # frame-to-frame shake: about 5x less


def test_lag_on_a_clean_ramp_is_bounded():
    t = np.arange(150) / FPS
    ramp = 1.0 * t  # a joint moving steadily at 1 m/s
    lag_frames = (ramp - one_euro(ramp, FPS, DEFAULT)) * FPS  # metres behind / metres per frame
    assert abs(lag_frames[0]) < 1e-9  # starts on the signal
    assert (lag_frames[30:] > 0).all() and (lag_frames[30:] < 0.5).all()  # under half a frame once settled
    strongest = (ramp - one_euro(ramp, FPS, smoothing_params(1.0))) * FPS
    assert 0.5 < strongest[-1] < 1.0  # the strongest setting trades more lag for less jitter


def test_smoothing_strength_mapping():
    assert smoothing_params(0.0) is None
    assert DEFAULT == OneEuroParams(min_cutoff=1.0, beta=10.0, d_cutoff=1.0)
    weak, strong = smoothing_params(0.2), smoothing_params(0.9)
    assert strong.min_cutoff < DEFAULT.min_cutoff < weak.min_cutoff and strong.beta < DEFAULT.beta < weak.beta
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="smoothing"):
            smoothing_params(bad)


def test_invalid_samples_pass_through_and_restart_the_filter():
    values = np.concatenate([np.zeros(20), np.full(5, 7.0), np.ones(20)])[:, None]  # (frames, 1 joint)
    valid = np.ones((45, 1), dtype=bool)
    valid[20:25] = False
    out = one_euro(values, FPS, DEFAULT, valid)
    assert (out[20:25] == 7.0).all()  # untouched where invalid
    assert out[25, 0] == 1.0  # restarted at the new value: no drag from before the gap
    assert np.allclose(out[25:], 1.0)


def test_gap_filling_is_exact_on_linear_data():
    frames = np.arange(40, dtype=np.float64)
    values = np.stack([frames * 0.1, -frames, frames * 0 + 3], axis=1)[:, None, :].repeat(2, axis=1)  # (40, 2, 3)
    valid = np.ones((40, 2), dtype=bool)
    valid[10:14, 0] = False  # 4 frames: filled
    valid[20:23, 1] = False  # 3 frames: filled
    holes = values.copy()
    holes[~valid] = 0.0
    filled, now_valid = interpolate_gaps(holes, valid, max_gap_frames=4)
    assert now_valid.all()
    np.testing.assert_allclose(filled, values, atol=1e-12)
    assert holes[10, 0, 0] == 0.0  # the input is not modified


def test_long_and_open_ended_gaps_are_left_alone():
    values = np.arange(30, dtype=np.float64)[:, None, None].repeat(3, axis=2)
    valid = np.ones((30, 1), dtype=bool)
    valid[:3] = False  # before the first valid frame: nothing to interpolate from
    valid[10:16] = False  # 6 frames: longer than the limit
    valid[27:] = False  # after the last valid frame
    holes = np.where(valid[:, :, None], values, -1.0)
    filled, now_valid = interpolate_gaps(holes, valid, max_gap_frames=5)
    np.testing.assert_array_equal(now_valid, valid)
    np.testing.assert_array_equal(filled, holes)
    filled, now_valid = interpolate_gaps(holes, valid, max_gap_frames=6)
    assert now_valid[10:16].all() and not now_valid[:3].any() and not now_valid[27:].any()
    np.testing.assert_allclose(filled[10:16, 0, 0], np.arange(10, 16))
    assert interpolate_gaps(holes, valid, max_gap_frames=0)[1].sum() == valid.sum()
