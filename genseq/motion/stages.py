"""The dance stages (extract, train, generate, write, evaluate), shared by the CLI and the Prefect flows."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm
import torch

from genseq.core.atomic import atomic_write_text, ensure_writable_dir
from genseq.core.config import DanceConfig
from genseq.core.errors import GenseqError
from genseq.core.files import find_files
from genseq.core.motion import MotionClip, load_clip, save_clip
from genseq.core.paths import assets_dir
from genseq.model import heads
from genseq.model.sample import SamplingOptions, sample_continuations
from genseq.model.train import EncodedPiece, ModelSpec, TrainResult, load_trained_model, train
from genseq.motion import metrics
from genseq.motion.bvh import read_bvh, resample
from genseq.motion.encode import (
    DanceEncoding, MotionFeatures, RootState, bone_lengths, fit_encoding, local_positions, root_state,
)
from genseq.motion.skeleton import BONE_INDICES, INDEX, LANDMARKS
from genseq.motion.video import VIDEO_SUFFIXES, extract_video

BVH_SUFFIX, CLIP_SUFFIX = ".bvh", ".npz"
MOTION_SUFFIXES = (BVH_SUFFIX, CLIP_SUFFIX) + VIDEO_SUFFIXES
PRIMER_SECONDS = 2.0  # length of the held-out primers evaluate_dance continues
FEET = [[INDEX[f"{side}_{part}"] for part in ("ankle", "heel", "foot_index")] for side in ("left", "right")]

Progress = Callable[[int, int], None]


# ---------------------------------------------------------------------------------------------
# Reading motion


def find_motion_files(paths: list[str | Path]) -> list[Path]:
    """Videos, BVH files and .npz clips named directly or found (recursively, sorted) under folders;
    a file named directly is read whatever its suffix (anything not .bvh or .npz as a video)."""
    return find_files(paths, MOTION_SUFFIXES)


def resample_clip(clip: MotionClip, fps: float) -> MotionClip:
    """The clip at another frame rate (linear interpolation; a frame is valid where both neighbours are)."""
    if abs(clip.fps - fps) <= 1e-6 * fps:
        return clip
    positions = resample(clip.positions.astype(np.float64), clip.fps, fps)
    valid = resample(clip.valid.astype(np.float64), clip.fps, fps) > 1.0 - 1e-6
    image = None if clip.image_positions is None else resample(clip.image_positions.astype(np.float64), clip.fps, fps)
    return MotionClip(positions.astype(np.float32), valid, float(fps), list(clip.joint_names),
                      None if image is None else image.astype(np.float32), clip.name)


def read_motion_file(path: str | Path, fps: float, smoothing: float = 0.5, progress: Progress | None = None) -> MotionClip:
    """One video, BVH file or .npz clip as a MotionClip of the 33 landmarks at `fps`."""
    path = Path(path)
    if not fps > 0:
        raise GenseqError(f"frame rate must be positive, got {fps}", path)
    suffix = path.suffix.lower()
    if suffix == BVH_SUFFIX:
        clip = read_bvh(path, fps)
    elif suffix == CLIP_SUFFIX:
        clip = load_clip(path)
        if list(clip.joint_names) != LANDMARKS:
            raise GenseqError(f"clip has {len(clip.joint_names)} joints that are not the 33 BlazePose landmarks", path)
    else:
        try:
            clip = extract_video(path, smoothing, progress=progress)
        except ValueError as exc:  # a smoothing strength out of range
            raise GenseqError(str(exc), path) from None
    if clip.num_frames == 0:
        raise GenseqError("motion clip has no frames", path)
    clip = resample_clip(clip, fps)
    clip.name = clip.name or path.stem
    return clip


def output_names(files: list[Path]) -> list[str]:
    """One output stem per input: its own stem, or '<folder>_<stem>' where two inputs share a stem."""
    stems = [f.stem for f in files]
    names = [f"{f.parent.name}_{f.stem}" if stems.count(f.stem) > 1 else f.stem for f in files]
    if len(set(names)) < len(names):
        clash = next(n for n in names if names.count(n) > 1)
        raise GenseqError(f"two inputs would both be written as {clash}.npz; extract them separately")
    return names


def extract_motion(paths: list, out: str | Path, fps: float = 30.0, smoothing: float = 0.5,
                   progress: Progress | None = None) -> list[Path]:
    """Videos (mediapipe, then resampled to fps), BVH files (forward kinematics at fps) or .npz clips
    to .npz motion clips. One input and `out` ending in .npz: that file; otherwise `out` is a folder
    and each input gives out/<stem>.npz. Folders among `paths` are searched recursively.

    progress(done, total) counts frames over all inputs: within a video as it is decoded, other
    files once read; `total` grows as inputs are opened.
    """
    files = find_motion_files(paths)
    if not files:
        raise GenseqError("no videos, BVH files or .npz clips found", paths[0] if len(paths) == 1 else None)
    out = Path(out)
    if out.suffix.lower() == CLIP_SUFFIX:
        if len(files) != 1:
            raise GenseqError(f"one output file for {len(files)} inputs: give a folder as the output", out)
        targets = [out]
        ensure_writable_dir(out.parent)
    else:
        ensure_writable_dir(out)
        targets = [out / f"{name}{CLIP_SUFFIX}" for name in output_names(files)]
    written, finished = [], 0
    for path, target in zip(files, targets):
        def frames_done(done: int, total: int, before: int = finished) -> None:
            if progress:
                progress(before + done, before + total)

        clip = read_motion_file(path, fps, smoothing, frames_done)
        finished += clip.num_frames
        frames_done(0, 0, finished)
        written.append(save_clip(clip, target))
    return written


def load_motion_files(data: str | Path, fps: float) -> list[tuple[Path, MotionClip]]:
    """(file, clip) for every video, BVH file and .npz clip in a folder (recursively) or one file, at
    `fps`; each clip is named by its path relative to the folder, without suffix (e.g. 'salsa/01')."""
    data = Path(data)
    if not data.exists():
        raise GenseqError("no such data file or folder", data)
    files = find_motion_files([data])
    if not files:
        raise GenseqError(f"no videos, BVH files or .npz clips found (looked for {', '.join(MOTION_SUFFIXES)})", data)
    loaded = []
    for path in files:
        clip = read_motion_file(path, fps)
        clip.name = path.relative_to(data).with_suffix("").as_posix() if data.is_dir() else path.stem
        loaded.append((path, clip))
    return loaded


def load_motion_clips(data: str | Path, fps: float) -> list[MotionClip]:
    """Every video, BVH file and .npz clip in a folder (recursively) or one file, as clips at `fps`,
    named by their path relative to the folder without suffix (e.g. 'salsa/01')."""
    return [clip for _, clip in load_motion_files(data, fps)]


# ---------------------------------------------------------------------------------------------
# Training


def long_enough_clips(files: list[tuple[Path, MotionClip]], min_seconds: float) -> tuple[list[MotionClip], list[dict]]:
    """The clips long enough to train on, and the others with their reason. A clip named on its own,
    or a folder with no clip long enough, is an error."""
    kept, dropped = [], []
    for path, clip in files:
        if clip.seconds >= min_seconds:
            kept.append(clip)
        else:
            dropped.append({"file": str(path), "reason": f"too short to train on: {clip.seconds:.1f} s, need {min_seconds:.1f} s"})
    if not kept:
        raise GenseqError(dropped[0]["reason"] if len(files) == 1 else
                          f"no clip is long enough to train on (need {min_seconds:.1f} s)", files[0][0] if len(files) == 1 else None)
    return kept, dropped


def split_clips(clips: list[MotionClip], seed: int, valid_fraction: float) -> tuple[list[MotionClip], list[MotionClip], str]:
    """A seeded split into training and validation clips; a single clip is split in time instead."""
    if len(clips) == 1:
        clip = clips[0]
        cut = clip.num_frames - max(2, round(clip.num_frames * valid_fraction))
        part = lambda a, b, name: MotionClip(clip.positions[a:b], clip.valid[a:b], clip.fps,  # noqa: E731
                                             list(clip.joint_names), None, name)
        return ([part(0, cut, f"{clip.name}[:{cut}]")], [part(cut, clip.num_frames, f"{clip.name}[{cut}:]")],
                f"one clip: its last {valid_fraction:g} (frames {cut}:) validates")
    order = np.random.default_rng(seed).permutation(len(clips))
    n_valid = min(max(1, round(len(clips) * valid_fraction)), len(clips) - 1)
    return ([clips[i] for i in sorted(order[n_valid:])], [clips[i] for i in sorted(order[:n_valid])],
            f"seeded split of clips (seed {seed}, valid fraction {valid_fraction:g})")


class DanceSource:
    """Training pieces of one epoch: each clip as it is or (with probability 1/2) its mirror image."""

    def __init__(self, encoding: DanceEncoding, features: list[MotionFeatures], mirror: bool):
        self.plain = [encoding.piece(f) for f in features]
        self.mirrored = [encoding.piece(MotionFeatures(*encoding.mirror_values(f.values, f.mask), f.origin))
                         for f in features] if mirror else None

    def epoch(self, rng: np.random.Generator) -> list[EncodedPiece]:
        if self.mirrored is None:
            return self.plain
        flips = rng.random(len(self.plain)) < 0.5
        return [m if flip else p for p, m, flip in zip(self.plain, self.mirrored, flips)]


def dance_spec(config: DanceConfig, encoding: DanceEncoding) -> ModelSpec:
    size = encoding.value_size
    return ModelSpec("dance", "mdn", encoding.input_size, heads.output_size("mdn", size, config.mixture_components),
                     encoding.metadata(), config.model_dump(), None, size)


def train_dance(data: str | Path, out: str | Path, config: DanceConfig, device: str | None = None,
                progress: Callable[[dict], None] | None = None, show_progress: bool = True) -> TrainResult:
    """Train the stacked model with a mixture-density head on a folder of videos, BVH files or .npz
    clips: a seeded split of clips (recorded in out/data.json), statistics of the training clips,
    mirror augmentation, auto-conditioning as the config says. An unfinished run in `out` resumes."""
    out = ensure_writable_dir(out)
    cfg = config.train
    clips, dropped = long_enough_clips(load_motion_files(data, config.fps), config.min_clip_seconds)
    for item in dropped:
        if show_progress:
            tqdm.write(f"dropped {item['file']}: {item['reason']}")
    train_clips, valid_clips, how = split_clips(clips, cfg.seed, cfg.valid_fraction)
    atomic_write_text(out / "data.json", json.dumps({
        "data": str(data), "fps": config.fps, "split": how,
        "train": [c.name for c in train_clips], "valid": [c.name for c in valid_clips],
        "train_seconds_of_motion": round(sum(c.seconds for c in train_clips), 2), "dropped": dropped,
    }, indent=1))
    encoding = fit_encoding(train_clips, config.fps, config.mirror)
    source = DanceSource(encoding, [encoding.features(c) for c in train_clips], config.mirror)
    valid = [encoding.piece(encoding.features(c)) for c in valid_clips]
    return train(dance_spec(config, encoding), cfg, source, valid, out, device, progress, show_progress)


# ---------------------------------------------------------------------------------------------
# Generation


@dataclass
class LoadedDanceModel:
    model: torch.nn.Module
    encoding: DanceEncoding
    payload: dict

    @property
    def config(self) -> DanceConfig:
        return DanceConfig.model_validate(self.payload["config"])


def default_dance_checkpoint() -> Path:
    path = assets_dir() / "dance.pt"
    if not path.exists():
        raise GenseqError("bundled dance model is missing; pass --checkpoint", path)
    return path


def load_dance_model(checkpoint: str | Path, device: str | None = None) -> LoadedDanceModel:
    model, payload = load_trained_model(checkpoint, "dance", device)
    try:
        encoding = DanceEncoding.from_metadata(payload["representation"])
    except (KeyError, ValueError, TypeError) as exc:
        raise GenseqError(f"checkpoint's representation is unreadable ({type(exc).__name__})", payload["path"]) from None
    if payload.get("value_size") != encoding.value_size:
        raise GenseqError("checkpoint's model does not match its representation (value size)", payload["path"])
    return LoadedDanceModel(model, encoding, payload)


@dataclass
class DanceGenerateOptions:
    primer: Path | None = None
    seconds: float = 20.0
    seed: int = 0
    temperature: float = 1.0
    num_outputs: int = 1


def continue_dance(loaded: LoadedDanceModel, primer: MotionClip | None, steps: int, num_outputs: int = 1,
                   temperature: float = 1.0, seed: int = 0, progress: Callable[[int], None] | None = None,
                   name: str = "dance") -> list[MotionClip]:
    """Sample `steps` new frames after the primer (or after the training snippet stored in the checkpoint),
    starting where the primer stops; limbs keep the primer's lengths (else the training data's)."""
    encoding = loaded.encoding
    lengths = dict(encoding.bone_lengths)
    if primer is not None:
        features = encoding.features(primer)
        primer_inputs = encoding.normalise(features.values, features.mask)
        origin = root_state(primer)
        lengths.update(bone_lengths(primer))
    else:
        start = encoding.start_values if encoding.start_values is not None else encoding.mean[None, :]
        primer_inputs, origin = encoding.normalise(start), RootState()
    known = torch.ones(encoding.value_size)
    known[encoding.unknown] = 0.0  # dimensions the training data never had stay at their mean (0)
    primer_inputs = primer_inputs * known.numpy()
    known = known.to(next(loaded.model.parameters()).device)
    sampled = sample_continuations(loaded.model, "mdn", primer_inputs, lambda values, index: values * known, steps,
                                   num_outputs, SamplingOptions(temperature=temperature, seed=seed), progress,
                                   encoding.value_size)
    return [encoding.to_clip(values, origin, lengths, f"{name}_{index:03d}")
            for index, values in enumerate((sampled * known).cpu().numpy())]


def generate_dance(checkpoint: str | Path, options: DanceGenerateOptions, device: str | None = None,
                   progress: Callable[[int], None] | None = None) -> list[MotionClip]:
    """New dance clips (options.num_outputs of them, options.seconds each) continuing the primer (a video,
    BVH or .npz clip) or, without one, a snippet of the training data. Same seed, same dances."""
    if not options.seconds > 0:
        raise GenseqError(f"seconds must be positive, got {options.seconds}")
    if options.num_outputs < 1:
        raise GenseqError(f"num_outputs must be at least 1, got {options.num_outputs}")
    if not options.temperature >= 0:
        raise GenseqError(f"temperature must be 0 or more, got {options.temperature}")
    loaded = load_dance_model(checkpoint, device)
    fps = loaded.encoding.fps
    primer = None if options.primer is None else read_motion_file(options.primer, fps)
    steps = max(1, round(options.seconds * fps))
    return continue_dance(loaded, primer, steps, options.num_outputs, options.temperature, options.seed, progress)


def numbered(path: Path, index: int, count: int) -> Path:
    return path if count == 1 else path.with_name(f"{path.stem}_{index:03d}{path.suffix}")


def write_dance_outputs(clips: list[MotionClip], video_out: Path | None, keypoints_out: Path | None,
                        render_options: dict | None = None) -> list[Path]:
    """Write each clip as an H.264 skeleton video and/or a .npz keypoint clip (atomically); with several
    clips, _000, _001 ... go before the suffixes. render_options are render_video's keyword arguments."""
    from genseq.motion.render import render_video

    options = dict(render_options or {})
    allowed = set(inspect.signature(render_video).parameters) - {"clip", "out_path"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise GenseqError(f"unknown render option(s): {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")
    if keypoints_out is not None and Path(keypoints_out).suffix.lower() != CLIP_SUFFIX:
        raise GenseqError("keypoints output must end in .npz", keypoints_out)
    written = []
    for index, clip in enumerate(clips):
        if video_out is not None:
            written.append(render_video(clip, numbered(Path(video_out), index, len(clips)), **options))
        if keypoints_out is not None:
            written.append(save_clip(clip, numbered(Path(keypoints_out), index, len(clips))))
    return written


# ---------------------------------------------------------------------------------------------
# Evaluation


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


def evaluate_dance(checkpoint: str | Path, data: str | Path, seconds: float = 60.0, num_samples: int = 5, seed: int = 0,
                   device: str | None = None) -> dict:
    """Generate `num_samples` dances of `seconds` from held-out primers cut from the clips in `data` and
    measure them against those clips: windowed pose speed and the freeze ratio, kinetic Fréchet
    distance, diversity, bone-length error, foot sliding. One JSON-able dict."""
    if num_samples < 1 or not seconds > 0:
        raise GenseqError(f"need at least one sample of positive length, got {num_samples} x {seconds} s")
    loaded = load_dance_model(checkpoint, device)
    fps = loaded.encoding.fps
    real = load_motion_clips(data, fps)
    primers = held_out_primers(real, num_samples, seed)
    steps = max(2, round(seconds * fps))
    generated = [continue_dance(loaded, primer, steps, 1, 1.0, seed + index, name=f"sample_{index:03d}")[0]
                 for index, primer in enumerate(primers)]
    generated_lengths = [metrics.bone_length_error(c.positions, c.valid, BONE_INDICES) for c in generated]
    real_summary = summarise(real)
    return {
        "checkpoint": loaded.payload["path"], "data": str(data), "real_clips": len(real), "samples": num_samples,
        "seconds": seconds, "fps": fps, "seed": seed, "primers": [p.name for p in primers],
        "window_seconds": metrics.WINDOW_SECONDS, "speed": "pose speed: joints relative to the hip midpoint, heading frame",
        **compare_motion(summarise(generated), real_summary),
        "bone_length_error_per_sample": [round(float(v), 6) for v in generated_lengths],
        "real": real_reference(real_summary),
    }
