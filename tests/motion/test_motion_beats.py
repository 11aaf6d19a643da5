"""Kinematic beats, the beat-alignment score and the time warp onto music beats (synthetic motion)."""

from __future__ import annotations

import numpy as np
import pytest

from genseq.core.motion import MotionClip
from genseq.motion import beats as mb
from genseq.motion.skeleton import LANDMARKS


def pulsing_clip(beat_times: np.ndarray, seconds: float, fps: float = 30.0) -> MotionClip:
    """Every joint swings to and fro, stopping (speed zero) exactly at `beat_times`."""
    time = np.arange(int(round(seconds * fps))) / fps
    phase = np.interp(time, beat_times, np.arange(len(beat_times)))      # whole numbers at the beats
    swing = 0.3 * np.cos(np.pi * phase)                                   # turns round at each beat
    positions = np.zeros((len(time), len(LANDMARKS), 3), dtype=np.float32)
    positions[:, :, 0] = swing[:, None] + np.linspace(-0.2, 0.2, len(LANDMARKS))[None]
    positions[:, :, 1] = np.linspace(0.0, 1.7, len(LANDMARKS))[None]
    return MotionClip(positions, np.ones(positions.shape[:2], bool), fps, list(LANDMARKS), name="pulse")


def test_kinematic_beats_are_the_speed_minima():
    beats = np.arange(0.0, 10.01, 0.5) + 0.017       # off the frame grid: one slowest frame, not a tie of two
    found = mb.kinematic_beats(pulsing_clip(beats, 10.0))
    inner = beats[1:-1]
    assert len(found) == pytest.approx(len(inner), abs=1)
    assert np.abs(found[:, None] - inner[None]).min(axis=1).max() <= 1.5 / 30


def test_beat_alignment_score():
    music = np.arange(0, 10, 0.5)
    assert mb.beat_alignment(music[2:8], music) == pytest.approx(1.0)
    assert mb.beat_alignment(music[2:8] + 0.25, music) == pytest.approx(np.exp(-0.25 ** 2 / 0.02))
    assert mb.beat_alignment(music[2:8] + 0.1, music) == pytest.approx(np.exp(-0.5))
    assert np.allclose(mb.half_beat_shifted(music), music + 0.25)
    assert np.isnan(mb.beat_alignment(np.zeros(0), music))


def test_tempo_sets_the_play_rate_within_bounds():
    assert mb.tempo_rate(mb.REFERENCE_QPM) == 1.0
    assert mb.tempo_rate(60) == mb.MIN_RATE and mb.tempo_rate(200) == mb.MAX_RATE
    assert mb.tempo_rate(80) < mb.tempo_rate(100) < mb.tempo_rate(140)


@pytest.mark.parametrize("qpm", [75, 110, 150])
def test_the_warp_puts_motion_beats_on_the_music_beats(qpm):
    rng = np.random.default_rng(qpm)
    source_beats = np.cumsum(rng.uniform(0.35, 0.6, 80))               # irregular, like a generated dance
    clip = pulsing_clip(np.concatenate([[0.0], source_beats]), 30.0)
    music = 0.3 + np.arange(0, 20, 60 / qpm)
    rate = mb.tempo_rate(qpm)
    warped = mb.warp_to_beats(clip, music, 12.0, rate)
    assert warped.num_frames == 360
    before = mb.beat_alignment(mb.kinematic_beats(mb.resample(clip, np.arange(360) / 30)), music)
    after = mb.beat_alignment(mb.kinematic_beats(warped), music)
    assert after >= 0.7 and after > before + 0.15
    assert after > mb.beat_alignment(mb.kinematic_beats(warped), mb.half_beat_shifted(music)) + 0.3


def test_the_warp_is_monotone_and_its_rate_bounded():
    rng = np.random.default_rng(1)
    motion = np.cumsum(rng.uniform(0.3, 0.7, 60))
    music = np.arange(0.2, 20, 0.5)
    warp = mb.plan_warp(motion, music, 1.0, 15.0)
    slopes = np.diff(warp.source) / np.diff(warp.output)
    assert np.all(slopes > 0) and np.all(slopes <= mb.MAX_WARP + 1e-9) and np.all(slopes >= 1 / mb.MAX_WARP - 1e-9)
    assert warp.output[0] == 0.0 and warp.output[-1] == 15.0
    inner = warp.output[1:-1]
    assert np.isin(np.round(inner, 9), np.round(music, 9)).all()        # every knot sits on a music beat
    times = warp(np.linspace(0, 15, 400))
    assert np.all(np.diff(times) > 0)


def test_too_few_beats_plays_at_the_target_rate():
    warp = mb.plan_warp(np.array([1.0]), np.array([0.5, 1.0]), 0.8, 10.0)
    assert np.allclose(warp(np.array([0.0, 5.0, 10.0])), [0.0, 4.0, 8.0])


def test_of_several_sampled_motions_the_best_aligned_is_kept():
    from genseq.compose.dance_to_music import best_fit
    from genseq.music.beats import SongBeats

    music = np.arange(0.0, 20.0, 0.5)
    steady = pulsing_clip(np.arange(0.0, 40.0, 0.5) + 0.017, 40.0)          # beats as regular as the song's
    rng = np.random.default_rng(3)
    ragged = pulsing_clip(np.concatenate([[0.0], np.cumsum(rng.uniform(0.15, 1.2, 80))]), 40.0)
    index, fitted = best_fit([ragged, steady], SongBeats(music, 120.0, 12.0), 12.0)
    assert index == 1 and fitted.num_frames == 360


def clip_of_speed(speed: np.ndarray, fps: float = 30.0) -> MotionClip:
    """Every joint moving along x at `speed` (m/s, one value a frame)."""
    x = np.cumsum(speed) / fps
    positions = np.zeros((len(speed), len(LANDMARKS), 3), dtype=np.float32)
    positions[:, :, 0] = x[:, None]
    positions[:, :, 1] = np.linspace(0.0, 1.7, len(LANDMARKS))[None]
    return MotionClip(positions, np.ones(positions.shape[:2], bool), fps, list(LANDMARKS), name="speed")


def test_a_slowed_dance_keeps_its_beats_once_steadied():
    """Speed pulsing twice a second with a 7 Hz ripple: at its own speed the beat smoothing hides the
    ripple; played at half speed the ripple (3.5 Hz) would add beats of its own, unless steadied first."""
    time = np.arange(600) / 30.0
    clip = clip_of_speed(1.0 + 0.5 * np.cos(2 * np.pi * 2.0 * time) + 0.3 * np.cos(2 * np.pi * 7.0 * time))
    own = len(mb.kinematic_beats(clip)) / clip.seconds
    played = lambda c: mb.resample(c, np.arange(1180) / 30.0 * 0.5)  # noqa: E731
    slowed = len(mb.kinematic_beats(played(clip))) / (1180 / 30.0 * 0.5)  # beats a second of the source
    steadied = len(mb.kinematic_beats(played(mb.steadied_for_rate(clip, 0.5)))) / (1180 / 30.0 * 0.5)
    assert own == pytest.approx(2.0, abs=0.1)
    assert slowed >= 1.4 * own
    assert steadied == pytest.approx(own, abs=0.15)
    assert mb.steadied_for_rate(clip, 1.2) is clip
