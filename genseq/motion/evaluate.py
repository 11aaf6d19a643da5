"""Evaluate dance: generated motion against real clips (freeze detector, kinetic Fréchet distance,
diversity, bone and foot errors), as `genseq eval dance` reports it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genseq.core.errors import GenseqError
from genseq.core.motion import MotionClip
from genseq.core.options import EvalDanceOptions
from genseq.motion import metrics
from genseq.model.load import load_model
from genseq.motion.domain import DANCE, load_motion_clips
from genseq.motion.encode import local_positions
from genseq.motion.generate import continue_dance
from genseq.motion.skeleton import BONE_INDICES, INDEX

PRIMER_SECONDS = 2.0  # length of the held-out primers evaluate_dance continues
FEET = [[INDEX[f"{side}_{part}"] for part in ("ankle", "heel", "foot_index")] for side in ("left", "right")]


def held_out_primers(clips: list[MotionClip], count: int, seed: int, seconds: float = PRIMER_SECONDS) -> list[MotionClip]:
    """`count` primers of `seconds` each, cut at seeded random places, going round the clips in turn."""
    rng = np.random.default_rng(seed)
    primers = []
    for index in range(count):
        clip = clips[index % len(clips)]
        frames = max(1, min(clip.num_frames, round(seconds * clip.fps)))
        start = int(rng.integers(0, clip.num_frames - frames + 1))
        primers.append(MotionClip(clip.positions[start:start + frames], clip.valid[start:start + frames], clip.fps,
                                  list(clip.joint_names), None, f"{clip.name}@{start}"))
    return primers


@dataclass
class MotionSummary:
    """Per-clip measurements that the comparisons are made of."""

    fps: float
    window_speeds: list[np.ndarray]   # pose speed of every 5 s window (stride 1 frame), per clip
    kinetic: list[np.ndarray]         # kinetic features of 5 s windows every second, per clip
    bone_error: float
    foot_sliding: float


def summarise(clips: list[MotionClip]) -> MotionSummary:
    """Freeze detection uses the pose speed (joints relative to the root, in the body's heading frame),
    so that a still pose carried along by root motion still counts as frozen; the kinetic features use
    world positions, as AIST++ does."""
    speeds, kinetic, bones, feet = [], [], [], []
    for clip in clips:
        speeds.append(metrics.windowed_mean_speed(local_positions(clip), clip.valid, clip.fps))
        kinetic.append(metrics.kinetic_features(clip.positions, clip.valid, clip.fps))
        bones.append(metrics.bone_length_error(clip.positions, clip.valid, BONE_INDICES))
        feet.append(metrics.foot_sliding(clip.positions, clip.valid, clip.fps, FEET))
    fps = clips[0].fps if clips else 30.0
    return MotionSummary(fps, speeds, kinetic, float(np.nanmean(bones)), float(np.nanmean(feet)))


def compare_motion(generated: MotionSummary, real: MotionSummary) -> dict:
    """The metrics of generated motion against real motion, as one JSON-able dict."""
    real_kinetic = np.concatenate(real.kinetic)
    every_second = [w[:: max(1, round(generated.fps))] for w in generated.window_speeds]
    return {
        "min_window_speed_ratio": metrics.min_window_speed_ratio(generated.window_speeds, real.window_speeds),
        "median_window_speed_ratio": float(np.nanmedian(np.concatenate(generated.window_speeds))
                                           / np.nanmedian(np.concatenate(real.window_speeds))),
        "window_speeds_every_second": [[round(float(v), 4) for v in w] for w in every_second],
        "frechet_kinetic": metrics.frechet_distance(np.concatenate(generated.kinetic), real_kinetic),
        "diversity": metrics.diversity(generated.kinetic, real_kinetic),
        "bone_length_error": generated.bone_error,
        "foot_sliding": generated.foot_sliding,
    }


def real_reference(real: MotionSummary) -> dict:
    real_kinetic = np.concatenate(real.kinetic)
    return {
        "median_window_speed": float(np.nanmedian(np.concatenate(real.window_speeds))),
        "diversity": metrics.diversity(real.kinetic, real_kinetic),
        "bone_length_error": real.bone_error,
        "foot_sliding": real.foot_sliding,
        "windows": int(len(real_kinetic)),
    }


def evaluate_dance(options: EvalDanceOptions) -> dict:
    """Generate options.num_samples dances of options.seconds from held-out primers cut from the clips in
    options.data and measure them against those clips: windowed pose speed and the freeze ratio, kinetic
    Fréchet distance, diversity, bone-length error, foot sliding. One JSON-able dict."""
    loaded = load_model(options.checkpoint, DANCE, options.device)
    fps = loaded.representation.fps
    real = load_motion_clips(options.data, fps)
    primers = held_out_primers(real, options.num_samples, options.seed)
    steps = max(2, round(options.seconds * fps))
    generated = [continue_dance(loaded, primer, steps, options.model_copy(update={"seed": options.seed + index}),
                                name=f"sample_{index:03d}", variety=options.variety)[0]
                 for index, primer in enumerate(primers)]
    generated_lengths = [metrics.bone_length_error(c.positions, c.valid, BONE_INDICES) for c in generated]
    real_summary = summarise(real)
    return {
        "checkpoint": loaded.path, "data": str(options.data), "real_clips": len(real),
        "samples": options.num_samples, "seconds": options.seconds, "fps": fps, "seed": options.seed,
        "temperature": options.temperature, "primers": [p.name for p in primers],
        "window_seconds": metrics.WINDOW_SECONDS, "speed": "pose speed: joints relative to the hip midpoint, heading frame",
        **compare_motion(summarise(generated), real_summary),
        "bone_length_error_per_sample": [round(float(v), 6) for v in generated_lengths],
        "real": real_reference(real_summary),
    }
