"""Generate dance: sample new motion from a model (continuing a primer clip when given) and write it
as browser-playable skeleton videos, keypoint clips and previews. The CLI, the flows, batch and the
demo all come through generate_and_render_dance with one GenerateDanceOptions."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from genseq.core.atomic import OutputGroup, atomic_outputs, check_output_paths, folder_kept_only_on_success
from genseq.core.errors import GenseqError
from genseq.core.files import numbered
from genseq.core.motion import MotionClip, save_clip
from genseq.core.options import DANCE_VARIETY, GenerateDanceOptions, SamplingOptions
from genseq.core.paths import bundled_checkpoint
from genseq.model.load import LoadedModel, load_model
from genseq.model.sampler import Sampler, sample_continuations
from genseq.motion.domain import CLIP_SUFFIX, DANCE, read_motion_file
from genseq.motion.mixture_draw import MixtureDraw, sample_frames
from genseq.motion.encode import DanceEncoding, RootState, bone_lengths, root_state
from genseq.motion.styles import check_style, style_vector

Progress = Callable[[int, int], None]
PREVIEW_SUFFIX = ".png"


def dance_draw(temperature: float, variety: float = DANCE_VARIETY) -> MixtureDraw:
    """How generation draws each frame (bench/dance_quality.py, issue 20): the sampler's temperature sets the
    spread and the choice of component as before, and each dance draws its own fixed offset of the
    component logits, sd `variety` (a per-dance latent of the sampler, genseq.motion.mixture_draw), so
    dances differ."""
    return MixtureDraw.from_temperature(temperature, dance_bias=variety)


def default_dance_checkpoint() -> Path:
    return bundled_checkpoint("dance.pt")


def style_rows(encoding: DanceEncoding, style: str | None | list, rows: int) -> torch.Tensor:
    """(rows, styles) the style inputs: one style for every row or one per row (None: no style asked)."""
    styles = list(style) if isinstance(style, (list, tuple)) else [style] * rows
    for name in styles:
        check_style(encoding.styles, name, "--dance-style")
    return torch.as_tensor(np.stack([style_vector(encoding.styles, name) for name in styles]).reshape(rows, -1))


def sample_dance_values(loaded: LoadedModel, primer_inputs: np.ndarray, steps: int, options: SamplingOptions,
                        num_outputs: int = 1, progress: Callable[[int], None] | None = None,
                        style: str | None | list = None, draw: MixtureDraw | None = None) -> np.ndarray:
    """(B, steps, D) normalised values continuing a (T0, D) primer (num_outputs times) or each row of a
    (B, T0, D) batch of primers; dimensions the training data never had stay at their mean (0). A model
    trained with styles is given `style` (a name, or one per row; None: none) beside every frame.
    draw: the mixture draw's controls (genseq.motion.mixture_draw; None: the sampler's own draw)."""
    encoding = loaded.representation
    known = torch.ones(encoding.value_size)
    known[encoding.unknown] = 0.0
    known = known.to(loaded.device)
    primer = torch.as_tensor(primer_inputs, dtype=torch.float32, device=loaded.device) * known
    if primer.dim() == 2:
        primer = primer.unsqueeze(0).expand(num_outputs, -1, -1)
    chosen = style_rows(encoding, style, len(primer)).to(loaded.device)
    primer = torch.cat([primer, chosen[:, None, :].expand(-1, primer.shape[1], -1)], dim=-1).contiguous()
    sampler = Sampler(loaded.model, "mdn", options, encoding.value_size)
    if draw is not None:
        sampled = sample_frames(sampler, primer, lambda values: torch.cat([values * known, chosen], dim=-1), steps,
                                draw, encoding.fps, options.top_k, progress, options.top_p)
        return (sampled * known).cpu().numpy()
    sampled = sample_continuations(sampler, primer, lambda values, index: torch.cat([values * known, chosen], dim=-1),
                                   steps, num_outputs, progress)
    return (sampled * known).cpu().numpy()


def continue_dance(loaded: LoadedModel, primer: MotionClip | None, steps: int, options: SamplingOptions,
                   num_outputs: int = 1, progress: Callable[[int], None] | None = None,
                   name: str = "dance", style: str | None = None, variety: float = DANCE_VARIETY) -> list[MotionClip]:
    """Sample `steps` new frames after the primer (or after the training snippet stored in the checkpoint),
    starting where the primer stops, in `style` (None: none asked), each dance with its own preference
    among the mixture's components (sd `variety`); limbs keep the primer's lengths (else the training data's)."""
    encoding = loaded.representation
    lengths = dict(encoding.bone_lengths)
    if primer is not None:
        features = encoding.features(primer)
        primer_inputs = encoding.normalise(features.values, features.mask)
        origin = root_state(primer)
        lengths.update(bone_lengths(primer))
    else:
        start = encoding.start_values if encoding.start_values is not None else encoding.mean[None, :]
        primer_inputs, origin = encoding.normalise(start), RootState()
    sampled = sample_dance_values(loaded, primer_inputs, steps, options, num_outputs, progress, style,
                                  dance_draw(options.temperature, variety))
    return [encoding.to_clip(values, origin, lengths, f"{name}_{index:03d}") for index, values in enumerate(sampled)]


def load_primer(loaded: LoadedModel, primer: str | None) -> MotionClip | None:
    """The user's primer clip at the model's frame rate (None: the model starts from its training snippet)."""
    return None if primer is None else read_motion_file(primer, loaded.representation.fps)


def generate_dance(options: GenerateDanceOptions, progress: Progress | None = None) -> list[MotionClip]:
    """New dance clips (options.num_outputs of them, options.seconds each) continuing the primer (a video,
    BVH or .npz clip) or, without one, a snippet of the training data. Same seed, same dances."""
    loaded = load_model(options.checkpoint or default_dance_checkpoint(), DANCE, options.device)
    check_style(loaded.representation.styles, options.dance_style, "--dance-style")  # before reading the primer
    steps = max(1, round(options.seconds * loaded.representation.fps))
    on_step = None if progress is None else (lambda done: progress(done, steps))
    return continue_dance(loaded, load_primer(loaded, options.primer), steps, options, options.num_outputs, on_step,
                          style=options.dance_style, variety=options.variety)


def write_dance_outputs(clips: list[MotionClip], video_out: Path | None, keypoints_out: Path | None,
                        render_options: dict | None = None, group: OutputGroup | None = None,
                        cover: bool = False) -> list[Path]:
    """Write each clip as an H.264 skeleton video (with a JPEG cover beside it when asked) and/or a .npz
    keypoint clip (atomically); with several clips, _000, _001 ... go before the suffixes. render_options
    are render_video's keyword arguments. With a group (atomic_outputs), the files appear only when the
    whole group is written."""
    from genseq.motion.cover import cover_path
    from genseq.motion.render import render_video

    options = dict(render_options or {})
    allowed = set(inspect.signature(render_video).parameters) - {"clip", "out_path"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise GenseqError(f"unknown render option(s): {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")
    if keypoints_out is not None and Path(keypoints_out).suffix.lower() != CLIP_SUFFIX:
        raise GenseqError("keypoints output must end in .npz", keypoints_out)
    target = Path if group is None else group.path
    written = []
    for index, clip in enumerate(clips):
        if video_out is not None:
            path = numbered(Path(video_out), index, len(clips))
            render_video(clip, target(path), **options, cover=target(cover_path(path)) if cover else None)
            written += [path, cover_path(path)] if cover else [path]
        if keypoints_out is not None:
            path = numbered(Path(keypoints_out), index, len(clips))
            save_clip(clip, target(path))
            written.append(path)
    return written


def planned_outputs(options: GenerateDanceOptions) -> list[Path]:
    """Every file generate_and_render_dance will write, in the order it writes them."""
    keypoints = Path(options.keypoints_out) if options.keypoints_out else None
    return output_files(Path(options.out), options.num_outputs, keypoints, options.preview, options.cover)


def output_files(out: Path, count: int, keypoints: Path | None, preview: bool, cover: bool = False) -> list[Path]:
    """The files of `count` dances: each one's video, then its cover, keypoint clip and contact sheet when
    asked (_000, _001 ... before the suffixes when there are several; batch plans a row's outputs with this)."""
    from genseq.motion.cover import cover_path

    paths = []
    for index in range(count):
        paths.append(numbered(out, index, count))
        if cover:
            paths.append(cover_path(paths[-1]))
        if keypoints is not None:
            paths.append(numbered(keypoints, index, count))
        if preview:
            paths.append(numbered(out.with_suffix(PREVIEW_SUFFIX), index, count))
    return paths


def check_dance_outputs(options: GenerateDanceOptions) -> None:
    from genseq.motion.render import VIDEO_SUFFIXES

    if Path(options.out).suffix.lower() not in VIDEO_SUFFIXES:
        raise GenseqError(f"a dance video ends in {' or '.join(VIDEO_SUFFIXES)}", options.out)
    if options.keypoints_out is not None and Path(options.keypoints_out).suffix.lower() != CLIP_SUFFIX:
        raise GenseqError("keypoints output must end in .npz", options.keypoints_out)
    paths = planned_outputs(options)
    if len(set(paths)) < len(paths):
        raise GenseqError("two outputs would share one file name", options.out)
    check_output_paths(*paths)


def generate_and_render_dance(options: GenerateDanceOptions, progress: Progress | None = None) -> list[Path]:
    """Generate, then write each dance as an H.264 video, optionally its .npz clip, and a PNG contact
    sheet beside the video; every output is checked before sampling starts. A dance to a song
    (options.music) is made one layer up, by genseq/compose/dance_to_song.py."""
    if options.music:
        raise GenseqError("a dance to a song is made by genseq.compose (genseq generate dance --music)", "--music")
    with folder_kept_only_on_success(Path(options.out).parent):
        check_dance_outputs(options)
        clips = generate_dance(options, progress)
        return write_and_preview(options, clips)


def write_and_preview(options: GenerateDanceOptions, clips: list[MotionClip], audio: Path | None = None) -> list[Path]:
    """Each clip's video (with `audio` as its sound), .npz and contact sheet, as options ask; all or
    nothing: the files appear together once every one is written. Returns them as planned_outputs."""
    from genseq.motion.render import render_preview, video_look

    out, count = Path(options.out), len(clips)
    render_options = {**video_look(options), "camera": options.camera, "style": options.style,
                      **({"audio": audio} if audio else {})}
    keypoints = Path(options.keypoints_out) if options.keypoints_out else None
    with atomic_outputs() as group:
        write_dance_outputs(clips, out, keypoints, render_options, group, options.cover)
        for index, clip in enumerate(clips if options.preview else []):
            render_preview(clip, group.path(numbered(out.with_suffix(PREVIEW_SUFFIX), index, count)),
                           camera=options.camera, style=options.style, theme=options.theme)
    return planned_outputs(options)
