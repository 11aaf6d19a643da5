"""Extract motion: videos (mediapipe), BVH files (forward kinematics) or .npz clips to .npz keypoint clips."""

from __future__ import annotations

from pathlib import Path

from genseq.core.atomic import ensure_writable_dir
from genseq.core.domain import find_domain_files
from genseq.core.errors import GenseqError
from genseq.core.motion import save_clip
from genseq.motion.domain import CLIP_SUFFIX, DANCE, Progress, read_motion_file


def clip_names(files: list[Path]) -> list[str]:
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
    files = find_domain_files(DANCE, paths)
    out = Path(out)
    if out.suffix.lower() == CLIP_SUFFIX:
        if len(files) != 1:
            raise GenseqError(f"one output file for {len(files)} inputs: give a folder as the output", out)
        targets = [out]
        ensure_writable_dir(out.parent)
    else:
        ensure_writable_dir(out)
        targets = [out / f"{name}{CLIP_SUFFIX}" for name in clip_names(files)]
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
