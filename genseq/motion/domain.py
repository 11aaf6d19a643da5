"""Dance as a domain (genseq/core/domain.py): videos, BVH files and .npz clips read as MotionClips at
the model's frame rate, split by clip, encoded as root-relative poses fitted to the training clips,
mirrored for augmentation. Training, loading and sampling are written once in genseq/model/."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np

from genseq.core.config import DanceConfig
from genseq.core.domain import find_domain_files, read_files, require_some
from genseq.core.errors import GenseqError
from genseq.core.motion import MotionClip, load_clip, require_valid_joints
from genseq.core.paths import configs_dir
from genseq.core.pieces import AugmentedSource, Split, seeded_split
from genseq.motion.bvh import read_bvh, resample
from genseq.motion.encode import DanceEncoding, MotionFeatures, fit_encoding
from genseq.motion.skeleton import LANDMARKS
from genseq.motion.styles import drop_styles
from genseq.motion.tempo import random_factors, time_stretched
from genseq.motion.video import VIDEO_SUFFIXES, extract_video

BVH_SUFFIX, CLIP_SUFFIX = ".bvh", ".npz"
MOTION_SUFFIXES = (BVH_SUFFIX, CLIP_SUFFIX) + VIDEO_SUFFIXES

Progress = Callable[[int, int], None]


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
    """One video, BVH file or .npz clip as a MotionClip of the 33 landmarks at `fps` (a file named
    directly is read whatever its suffix: anything not .bvh or .npz as a video)."""
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


def load_motion_files(data: str | Path, fps: float) -> tuple[list[tuple[Path, MotionClip]], list[dict]]:
    """(file, clip) for every video, BVH file and .npz clip in a folder (recursively) or one file, at `fps`,
    each clip named by its path relative to the folder without suffix (e.g. 'salsa/01'); and the files
    of a folder that could not be read, with the reason."""
    data = Path(data)
    if not data.exists():
        raise GenseqError("no such data file or folder", data)
    files = find_domain_files(DANCE, [data])

    def read_named(path: Path) -> tuple[Path, MotionClip]:
        clip = read_motion_file(path, fps)
        clip.name = path.relative_to(data).with_suffix("").as_posix() if data.is_dir() else path.stem
        return path, clip

    if not data.is_dir():
        return [read_named(files[0])], []
    loaded, report = read_files(files, read_named, lambda item: {"frames": item[1].num_frames})
    require_some(loaded, files, report.dropped, DANCE.noun, data)
    return loaded, report.dropped


def load_motion_clips(data: str | Path, fps: float) -> list[MotionClip]:
    """Every video, BVH file and .npz clip in a folder (recursively) or one file, as clips at `fps`."""
    return [clip for _, clip in load_motion_files(data, fps)[0]]


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


def mirrorer(encoding: DanceEncoding, mirror: bool, style_dropout: float = 0.0,
             tempo_range: tuple[float, float] = (1.0, 1.0)) -> Callable | None:
    """Epoch augmentation: each clip as it is or (with probability 1/2) its mirror image; with styles,
    its style dropped with probability `style_dropout` (so the model also dances with none given);
    with a tempo range, each clip stretched in time by a factor drawn log-uniform in it (genseq.motion.tempo)."""
    dropout = style_dropout if encoding.styles else 0.0
    stretching = tempo_range[1] > tempo_range[0] or tempo_range[0] != 1.0
    if not mirror and not dropout and not stretching:
        return None

    def augment(features: list[MotionFeatures], rng: np.random.Generator) -> list[MotionFeatures]:
        flips = rng.random(len(features)) < (0.5 if mirror else 0.0)
        mirrored = [dataclasses.replace(f, **dict(zip(("values", "mask"), encoding.mirror_values(f.values, f.mask))))
                    if flip else f for f, flip in zip(features, flips)]
        if stretching:
            factors = random_factors(rng, len(mirrored), *tempo_range)
            mirrored = [time_stretched(f, factor, encoding.joint_size) for f, factor in zip(mirrored, factors)]
        return drop_styles(mirrored, rng, dropout)

    return augment


class DanceDomain:
    """Dances from videos (mediapipe), motion capture (BVH) and .npz keypoint clips."""

    kind = "dance"
    suffixes = MOTION_SUFFIXES
    noun = "videos, BVH files or .npz clips"

    def __init__(self, tempo_range: tuple[float, float] = (1.0, 1.0)):
        self.tempo_range = tempo_range  # training's tempo augmentation (bench/dance_retrain.py --tempo)

    def config_model(self) -> type:
        return DanceConfig

    def config_file(self, representation: str | None) -> Path:
        return configs_dir() / "dance.yaml"

    def read_file(self, path: Path, config: DanceConfig) -> MotionClip:
        return read_motion_file(path, config.fps)

    def load_split(self, data: Path, config: DanceConfig) -> Split:
        files, unreadable = load_motion_files(data, config.fps)
        clips, too_short = long_enough_clips(files, config.min_clip_seconds)
        train_clips, valid_clips, how = split_clips(clips, config.train.seed, config.train.valid_fraction)
        return Split(train_clips, valid_clips, [], how, unreadable + too_short)

    def representation_for(self, config: DanceConfig, train_items: list) -> DanceEncoding:
        return fit_encoding(train_items, config.fps, config.mirror, styles=config.styles)

    def training_source(self, representation: DanceEncoding, train_items: list, config: DanceConfig) -> AugmentedSource:
        return AugmentedSource([representation.features(c) for c in train_items], representation.piece,
                               mirrorer(representation, config.mirror, config.style_dropout,
                                        self.tempo_range))

    def record(self, split: Split, config: DanceConfig) -> dict:
        return {"fps": config.fps, "train_seconds_of_motion": round(sum(c.seconds for c in split.train), 2)}

    def from_metadata(self, metadata: dict) -> DanceEncoding:
        return DanceEncoding.from_metadata(metadata)


DANCE = DanceDomain()
