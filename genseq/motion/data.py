"""Motion data: videos, BVH files and .npz clips read as MotionClips, extracted to clips, split
and trained on. The CLI, the flows and batch come through here."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from genseq.core.atomic import ensure_writable_dir
from genseq.core.config import DanceConfig, config_yaml, resolve_config
from genseq.core.lock import run_lock
from genseq.core.resources import check_model_memory
from genseq.core.errors import GenseqError
from genseq.core.files import find_files
from genseq.core.motion import MotionClip, load_clip, require_valid_joints, save_clip
from genseq.core.options import TrainDanceOptions
from genseq.core.paths import configs_dir
from genseq.core.pieces import AugmentedSource, seeded_split
from genseq.model import heads
from genseq.model.recurrent import pick_device
from genseq.model.runs import start_run
from genseq.model.train import ModelSpec, TrainResult, train
from genseq.motion.bvh import read_bvh, resample
from genseq.motion.encode import DanceEncoding, MotionFeatures, fit_encoding
from genseq.motion.skeleton import LANDMARKS
from genseq.motion.video import VIDEO_SUFFIXES, extract_video

BVH_SUFFIX, CLIP_SUFFIX = ".bvh", ".npz"
MOTION_SUFFIXES = (BVH_SUFFIX, CLIP_SUFFIX) + VIDEO_SUFFIXES

Progress = Callable[[int, int], None]


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
    require_valid_joints(clip, path)
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


def load_motion_files(data: str | Path, fps: float, dropped_files: list | None = None) -> list[tuple[Path, MotionClip]]:
    """(file, clip) for every video, BVH file and .npz clip in a folder (recursively) or one file, at
    `fps`; each clip is named by its path relative to the folder, without suffix (e.g. 'salsa/01')."""
    data = Path(data)
    dropped_files = [] if dropped_files is None else dropped_files
    if not data.exists():
        raise GenseqError("no such data file or folder", data)
    files = find_motion_files([data])
    if not files:
        raise GenseqError(f"no videos, BVH files or .npz clips found (looked for {', '.join(MOTION_SUFFIXES)})", data)
    loaded = []
    for path in files:
        try:
            clip = read_motion_file(path, fps)
        except GenseqError as exc:
            if not data.is_dir():
                raise
            dropped_files.append({"file": str(path), "reason": exc.problem})
            continue
        clip.name = path.relative_to(data).with_suffix("").as_posix() if data.is_dir() else path.stem
        loaded.append((path, clip))
    if not loaded:
        reasons = "; ".join(f"{Path(d['file']).name}: {d['reason']}" for d in dropped_files[:3])
        raise GenseqError(f"no readable motion among {len(files)} file(s) ({reasons})", data)
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
    train_clips, valid_clips, _ = seeded_split(clips, seed, valid_fraction, keep_order=True)
    return train_clips, valid_clips, f"seeded split of clips (seed {seed}, valid fraction {valid_fraction:g})"


def mirrorer(encoding: DanceEncoding, mirror: bool) -> Callable | None:
    """Epoch augmentation: each clip as it is or (with probability 1/2) its mirror image."""
    if not mirror:
        return None

    def augment(features: list[MotionFeatures], rng: np.random.Generator) -> list[MotionFeatures]:
        flips = rng.random(len(features)) < 0.5
        return [MotionFeatures(*encoding.mirror_values(f.values, f.mask), f.origin) if flip else f
                for f, flip in zip(features, flips)]

    return augment


def resolve_dance_config(options: TrainDanceOptions) -> DanceConfig:
    """configs/dance.yaml (the tuned defaults), the user's --config over it, then the shortcut flags
    and every --set."""
    return resolve_config(DanceConfig, configs_dir() / "dance.yaml", options.config, options.shortcuts(), options.set)


def dance_spec(config: DanceConfig, encoding: DanceEncoding) -> ModelSpec:
    size = encoding.value_size
    return ModelSpec("dance", "mdn", encoding.input_size, heads.output_size("mdn", size, config.mixture_components),
                     encoding.metadata(), config.model_dump(), None, size)


def train_dance(data: str | Path, out: str | Path, config: DanceConfig, device: str | None = None,
                progress: Callable[[dict], None] | None = None, show_progress: bool = True) -> TrainResult:
    """Train the stacked model with a mixture-density head on a folder of videos, BVH files or .npz
    clips: a seeded split of clips (recorded in out/data.json, the resolved config in out/config.yaml),
    statistics of the training clips, mirror augmentation, auto-conditioning as the config says.
    An unfinished run in `out` resumes."""
    pick_device(device)  # a device this machine lacks is refused before anything is written
    cfg = config.train
    unreadable: list[dict] = []
    clips, dropped = long_enough_clips(load_motion_files(data, config.fps, unreadable), config.min_clip_seconds)
    dropped = unreadable + dropped
    for item in dropped:
        if show_progress:
            tqdm.write(f"dropped {item['file']}: {item['reason']}")
    train_clips, valid_clips, how = split_clips(clips, cfg.seed, cfg.valid_fraction)
    encoding = fit_encoding(train_clips, config.fps, config.mirror)
    spec = dance_spec(config, encoding)
    check_model_memory(config.model, spec.input_size, spec.output_size, cfg)  # before anything is written
    with run_lock(out):
        start_run(out, {
            "data": str(data), "fps": config.fps, "split": how,
            "train": [c.name for c in train_clips], "valid": [c.name for c in valid_clips],
            "train_seconds_of_motion": round(sum(c.seconds for c in train_clips), 2), "dropped": dropped,
        }, config_yaml(config))
        source = AugmentedSource([encoding.features(c) for c in train_clips], encoding.piece,
                                 mirrorer(encoding, config.mirror))
        valid = [encoding.piece(encoding.features(c)) for c in valid_clips]
        return train(spec, cfg, source, valid, out, device, progress, show_progress)
