"""Beats of motion and of music together: kinematic beats (local minima of the smoothed mean joint
speed, as AIST++ defines motion beats), the beat-alignment score (AIST++/FACT: the mean over motion
beats of exp(-d^2 / 2 sigma^2), d the distance in seconds to the nearest music beat), and a time warp
that moves a clip's kinematic beats onto given music beats (Davis & Agrawala 2018): each motion beat
is assigned to a music beat, keeping the play rate near a target and within a bound, and the clip is
resampled along a smooth monotone map from output time to source time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema

from genseq.core.motion import MotionClip, interpolate_frames

SMOOTH_FRAMES = 5.0   # AIST++: gaussian_filter1d(speed, 5) at 60 fps; scaled to the clip's rate below
SMOOTH_FPS = 60.0
SIGMA_SECONDS = 0.1   # the beat-alignment tolerance
MAX_WARP = 1.4        # play rate stays within target / MAX_WARP .. target * MAX_WARP
MAX_SKIP = 4          # a motion-beat interval spans at most this many music beats
REFERENCE_QPM = 130.0  # without a measured beat rate: at this tempo the dance plays at its own speed
MIN_RATE, MAX_RATE = 0.55, 1.5   # bounds of the tempo-driven target rate


def mean_joint_speed(clip: MotionClip) -> np.ndarray:
    """(frames - 1,) mean over joints valid at both ends of each step of the speed in m/s."""
    steps = np.linalg.norm(np.diff(clip.positions, axis=0), axis=2)
    ok = clip.valid[1:] & clip.valid[:-1]
    counts = ok.sum(axis=1)
    speed = np.where(ok, steps, 0.0).sum(axis=1) / np.maximum(counts, 1) * clip.fps
    return np.where(counts > 0, speed, 0.0)


def kinematic_beats(clip: MotionClip, smooth_scale: float = 1.0) -> np.ndarray:
    """Times in seconds of the local minima of the smoothed mean joint speed (AIST++ motion beats);
    smooth_scale: the smoothing times this (the beats a clip will show once played at that rate)."""
    if clip.num_frames < 3:
        return np.zeros(0)
    sigma = SMOOTH_FRAMES * clip.fps / SMOOTH_FPS * smooth_scale
    speed = gaussian_filter1d(mean_joint_speed(clip), sigma, mode="nearest")
    minima = argrelextrema(speed, np.less)[0]
    return (minima + 1) / clip.fps  # speed[i] is the step into frame i + 1


def beat_alignment(motion_beats: np.ndarray, music_beats: np.ndarray, sigma: float = SIGMA_SECONDS) -> float:
    """Mean over motion beats of exp(-d^2 / 2 sigma^2), d the distance to the nearest music beat (seconds).
    NaN when there is no motion beat or no music beat."""
    motion_beats, music_beats = np.asarray(motion_beats, float), np.sort(np.asarray(music_beats, float))
    if len(motion_beats) == 0 or len(music_beats) == 0:
        return float("nan")
    distance = np.abs(motion_beats[:, None] - music_beats[None, :]).min(axis=1)
    return float(np.mean(np.exp(-distance ** 2 / (2 * sigma ** 2))))


def half_beat_shifted(music_beats: np.ndarray) -> np.ndarray:
    """The beats moved by half the median beat period: the chance-level reference."""
    music_beats = np.asarray(music_beats, float)
    period = float(np.median(np.diff(music_beats))) if len(music_beats) > 1 else 0.5
    return music_beats + period / 2


def tempo_rate(qpm: float, motion_beats_per_second: float | None = None) -> float:
    """How fast the dance plays for a song of this tempo (1 = as generated), proportional to the tempo:
    as fast as puts one motion beat on each music beat on average (given the motion's own beat rate),
    within MIN_RATE .. MAX_RATE. Slow songs, slower moves."""
    if motion_beats_per_second is None or not motion_beats_per_second > 0:
        return float(np.clip(qpm / REFERENCE_QPM, MIN_RATE, MAX_RATE))
    return float(np.clip(qpm / 60.0 / motion_beats_per_second, MIN_RATE, MAX_RATE))


def beats_per_second(clip: MotionClip) -> float:
    return len(kinematic_beats(clip)) / max(clip.seconds, 1e-9)


@dataclass
class Warp:
    """Knots of the map from output time to source time (seconds), both increasing."""

    output: np.ndarray
    source: np.ndarray

    def __call__(self, times: np.ndarray) -> np.ndarray:
        return PchipInterpolator(self.output, self.source, extrapolate=True)(times)


def plan_warp(motion_beats: np.ndarray, music_beats: np.ndarray, rate: float, seconds: float,
              max_warp: float = MAX_WARP) -> Warp:
    """Put motion beats on music beats, in order (dynamic programming): a knot joins motion beat i to
    music beat j; from one knot to the next, up to MAX_PASS motion beats may be passed over and up to
    MAX_SKIP music beats advanced, at a play rate (source seconds per output second) within
    target / max_warp .. target * max_warp. The plan keeps the most motion beats on music beats
    (a passed-over one counts against it, as do those left after the last knot), then the rate
    nearest the target. Before the first and after the last knot the clip plays at the target rate."""
    music = np.asarray(music_beats, float)
    music = music[music < seconds]
    beats = np.asarray(motion_beats, float)
    beats = beats[beats >= rate * music[0]] if len(music) else beats[:0]
    if len(music) < 2 or len(beats) < 2:
        return anchored([], [], rate, seconds)
    spacing = float(np.median(np.diff(beats)))
    score, back = best_chains(beats, music, rate, max_warp)
    tail = (seconds - music[None, :]) * rate / spacing       # motion beats the end would leave unplaced
    final = score - tail
    i, j = np.unravel_index(np.nanargmax(final), final.shape)
    output, source = [], []
    while i >= 0:
        output.append(music[j]), source.append(beats[i])
        i, j = back[i, j]
    return anchored(output[::-1], source[::-1], rate, seconds)


MAX_PASS = 2          # motion beats one step of the plan may pass over
RATE_COST = 0.5       # per unit of squared log-rate deviation, against one placed beat


def best_chains(beats: np.ndarray, music: np.ndarray, rate: float, max_warp: float) -> tuple[np.ndarray, np.ndarray]:
    """score[i, j]: the best value of a chain of knots ending at motion beat i on music beat j
    (NaN: none); back[i, j]: the knot before it ((-1, -1) at a chain's start)."""
    count, songs = len(beats), len(music)
    score = np.full((count, songs), np.nan)
    back = np.full((count, songs, 2), -1, dtype=np.int64)
    score[: MAX_PASS + 1, 0] = 1.0 - np.arange(min(count, MAX_PASS + 1))  # start: the first beats, on beat 0
    low, high = np.log(rate / max_warp), np.log(rate * max_warp)
    for i in range(count):
        for j in range(songs):
            if np.isnan(score[i, j]):
                continue
            for step in range(1, MAX_PASS + 2):
                if i + step >= count:
                    break
                spans = music[j + 1: j + MAX_SKIP + 1] - music[j]
                logs = np.log((beats[i + step] - beats[i]) / spans)
                for n in np.flatnonzero((logs >= low) & (logs <= high)):
                    value = score[i, j] + 1.0 - (step - 1) - RATE_COST * (logs[n] - np.log(rate)) ** 2
                    target = (i + step, j + n + 1)
                    if np.isnan(score[target]) or value > score[target]:
                        score[target], back[target] = value, (i, j)
    return score, back


def anchored(output: list[float], source: list[float], rate: float, seconds: float) -> Warp:
    """The knots with a start (output 0) and an end (output `seconds`) played at the target rate."""
    if not output:
        output, source = [0.0], [0.0]
    first_out, first_src = output[0], source[0]
    start_src = max(0.0, first_src - rate * first_out)
    out = [0.0] + list(output) if first_out > 0 else list(output)
    src = [start_src] + list(source) if first_out > 0 else list(source)
    if out[-1] < seconds:
        src.append(src[-1] + rate * (seconds - out[-1]))
        out.append(seconds)
    return Warp(np.array(out), np.array(src))


def resample(clip: MotionClip, times: np.ndarray, name: str | None = None) -> MotionClip:
    """The clip at source `times` (seconds, clamped to the clip): positions interpolated linearly between
    the two nearest frames, a joint valid where those that count are."""
    where = np.asarray(times, float) * clip.fps
    positions = interpolate_frames(clip.positions.astype(np.float32), where)
    valid = interpolate_frames(clip.valid.astype(np.float32), where) > 1.0 - 1e-6
    return MotionClip(positions, valid, clip.fps, list(clip.joint_names), None, name or clip.name)


def steadied_for_rate(clip: MotionClip, rate: float) -> MotionClip:
    """The clip low-passed for playing at `rate` < 1: slowed down, the small wobbles the beat smoothing
    hid at its own speed would last long enough to be beats of their own (played at 0.6, a dance shows
    about 1.5 times the beats it has, real motion capture too: bench/beat_alignment.py). A Gaussian of
    the beat smoothing times sqrt(1 - rate^2) (in the clip's frames) keeps its beats to those it has at
    its own speed; a clip played at rate >= 1 is kept as it is."""
    if rate >= 1.0 or clip.num_frames < 3:
        return clip
    sigma = SMOOTH_FRAMES * clip.fps / SMOOTH_FPS * np.sqrt(1.0 - rate * rate)
    positions = gaussian_filter1d(clip.positions.astype(np.float64), sigma, axis=0, mode="nearest")
    return MotionClip(positions.astype(np.float32), clip.valid, clip.fps, list(clip.joint_names), None, clip.name)


def warp_to_beats(clip: MotionClip, music_beats: np.ndarray, seconds: float, rate: float,
                  max_warp: float = MAX_WARP) -> MotionClip:
    """The clip time-warped so its kinematic beats land on the music beats, exactly round(seconds * fps)
    frames long at the clip's rate; for a slow song steadied first (steadied_for_rate), its beats found as
    the played clip will show them (the beat smoothing scaled by the rate)."""
    source = steadied_for_rate(clip, rate)
    warp = plan_warp(kinematic_beats(source, min(rate, 1.0)), music_beats, rate, seconds, max_warp)
    frames = max(1, int(round(seconds * clip.fps)))
    return resample(source, warp(np.arange(frames) / clip.fps))


def source_seconds_needed(seconds: float, rate: float, max_warp: float = MAX_WARP) -> float:
    """How much motion to generate so that the warp never runs past its end."""
    return seconds * rate * max_warp + 2.0
