"""Pictures of a MotionClip: H.264 MP4 videos of any size (a square, the platforms' vertical and wide
frames: genseq/core/looks.py), optionally beside the source video, with loudness-normalised sound and a
cover picture, and previews (animated GIF or a PNG contact sheet), in two styles: "figure" (shaded
capsules on a floor, genseq/motion/figure.py, the default) and "stick" (the skeleton's bones as lines,
drawn here), in a colour theme, before the theme's sky, a flat colour, a picture or a video.

The view is orthographic from the front: world x to the right, y up (z is dropped). A BVH skeleton
faces +z, so it faces the viewer and its left side is drawn on the right. Stick colours are the theme's
(RGB): left bones orange, right bones blue, the rest grey on the default theme, unless one `bone_color`.

Video frames are drawn as BGR, turned into I420 and piped into the ffmpeg binary that imageio-ffmpeg
ships (the pip builds of OpenCV have no H.264 encoder), which writes H.264 High, yuv420p, with the index
at the front (+faststart) and AAC at 48 kHz (genseq/core/ffmpeg.py): the file plays in browsers and
uploads as it is. Drawing (cv2, here) and encoding (ffmpeg) run side by side.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from genseq.core.atomic import atomic_path, atomic_write_bytes
from genseq.core.errors import GenseqError
from genseq.core.ffmpeg import ffmpeg_exe, gif_command, h264_command, i420_frames, pipe_frames  # noqa: F401  (ffmpeg_exe: tests)
from genseq.core.looks import Background, Theme, parse_background, parse_size, resolve_theme
from genseq.core.motion import MotionClip
from genseq.motion.side_by_side import SourceVideo, background_frames, beside_source, read_picture
from genseq.motion.skeleton import BONES

RGB = tuple[int, int, int]
BACKGROUND: RGB = (20, 20, 24)    # the default theme's stick background
MARGIN = 0.08           # of the picture, kept free around the skeleton
SUBPIXEL_BITS = 4       # cv2 draws at 1/16 pixel: smooth motion at small sizes
VIDEO_SUFFIXES = {".mp4": "mp4", ".mov": "mov"}
PREVIEW_SUFFIXES = (".gif", ".png", ".jpg", ".jpeg")
X264_PRESET = "veryfast"
FIGURE_PRESET = "superfast"  # shaded pictures take x264 longer: a faster preset keeps the figure as quick as the stick
PREVIEW_GIF_FPS = 12.5     # GIF delays are whole 1/100 s: 8 of them here, so the rate is exact
STYLES = ("figure", "stick")
Size = int | str | tuple[int, int]


@dataclass
class Style:
    """How a skeleton is drawn, in cv2 terms (BGR colours, pixel sizes)."""

    background: tuple[int, int, int]
    bone_colors: list[tuple[int, int, int]]   # one per bone of `bones`
    joint_color: tuple[int, int, int]
    thickness: int
    radius: int


def bgr(color: Sequence[int]) -> tuple[int, int, int]:
    if len(color) != 3 or not all(0 <= int(c) <= 255 for c in color):
        raise GenseqError(f"a colour is three numbers 0-255 (red, green, blue), got {tuple(color)}")
    r, g, b = (int(c) for c in color)
    return b, g, r


def skeleton_bones(joint_names: list[str]) -> list[tuple[int, int]]:
    """Index pairs of the BlazePose bones whose two ends the clip has."""
    index = {name: i for i, name in enumerate(joint_names)}
    return [(index[a], index[b]) for a, b in BONES if a in index and b in index]


def bone_side_color(a: str, b: str, theme: Theme | None = None) -> RGB:
    theme = theme or resolve_theme(None)
    sides = {name.split("_")[0] for name in (a, b)} & {"left", "right"}
    if sides == {"left"}:
        return theme.stick_left
    if sides == {"right"}:
        return theme.stick_right
    return theme.stick_centre


def make_style(clip: MotionClip, size: Size, background: Sequence[int] | None = None, bone_color: Sequence[int] | None = None,
               joint_color: Sequence[int] | None = None, theme: Theme | None = None) -> tuple[Style, list]:
    theme = theme or resolve_theme(None)
    side = min(parse_size(size))
    bones = skeleton_bones(clip.joint_names)
    names = clip.joint_names
    colors = [bgr(bone_color) if bone_color is not None else bgr(bone_side_color(names[a], names[b], theme)) for a, b in bones]
    style = Style(bgr(theme.stick_background if background is None else background), colors,
                  bgr(theme.stick_joint if joint_color is None else joint_color), thickness=max(1, round(side / 170)),
                  radius=max(2, round(side / 128)))
    return style, bones


# ---------------------------------------------------------------------------------------------
# Projection


def body_centres(clip: MotionClip) -> np.ndarray:
    """(frames, 2) x, y the follow camera centres on: the hip midpoint, else the mean valid joint.

    A frame with no valid joint keeps the previous frame's centre (the first valid one's at the start).
    """
    valid = clip.valid
    xy = np.where(valid[..., None], clip.positions[..., :2], 0.0).astype(np.float64)
    names = clip.joint_names
    counts = valid.sum(axis=1)
    centres = np.where(counts[:, None] > 0,
                       (xy * valid[..., None]).sum(axis=1) / np.maximum(counts, 1)[:, None], np.nan)
    if "left_hip" in names and "right_hip" in names:
        hips = [names.index("left_hip"), names.index("right_hip")]
        both = valid[:, hips].all(axis=1)
        centres[both] = xy[both][:, hips].mean(axis=1)
    return fill_gaps(centres)


def fill_gaps(values: np.ndarray) -> np.ndarray:
    """Rows that are NaN take the previous finite row (leading NaN rows the first finite one; all NaN: 0)."""
    ok = np.isfinite(values).all(axis=1)
    if not ok.any():
        return np.zeros_like(values)
    source = np.where(ok, np.arange(len(values)), 0)
    np.maximum.accumulate(source, out=source)
    source[: np.argmax(ok)] = np.argmax(ok)
    return values[source]


def project(clip: MotionClip, size: Size, camera: str = "follow") -> np.ndarray:
    """(frames, joints, 2) pixel coordinates (x right, y down) in a width x height picture.

    fixed: one view that holds every valid joint of the whole clip. follow: centred on the
    body each frame, at one scale for the whole clip that keeps every valid joint inside.
    """
    if camera not in ("follow", "fixed"):
        raise GenseqError(f"camera must be 'follow' or 'fixed', got '{camera}'")
    width, height = parse_size(size)
    xy = np.where(clip.valid[..., None], clip.positions[..., :2], 0.0).astype(np.float64)  # invalid may be NaN
    points = xy[clip.valid]
    usable = np.array([width, height]) * (1 - 2 * MARGIN)
    if camera == "fixed":
        low, high = (points.min(axis=0), points.max(axis=0)) if len(points) else (np.zeros(2), np.ones(2))
        centres = np.broadcast_to((low + high) / 2, (len(xy), 2))
        extent = high - low
    else:
        centres = body_centres(clip)
        offsets = np.abs(xy - centres[:, None, :])[clip.valid]
        extent = 2 * offsets.max(axis=0) if len(offsets) else np.ones(2)
    scale = float((usable / np.maximum(extent, 1e-6)).min())
    pixels = (xy - centres[:, None, :]) * scale * np.array([1.0, -1.0]) + np.array([width, height]) / 2
    return pixels.astype(np.float32)


def to_fixed_point(pixels: np.ndarray) -> np.ndarray:
    """cv2's sub-pixel integer coordinates (int32, SUBPIXEL_BITS fractional bits), clipped to stay drawable."""
    return np.clip(np.round(pixels * (1 << SUBPIXEL_BITS)), -(1 << 24), 1 << 24).astype(np.int32)


# ---------------------------------------------------------------------------------------------
# Drawing


def draw_skeleton(canvas: np.ndarray, points: np.ndarray, valid: np.ndarray, bones: list[tuple[int, int]],
                  style: Style) -> np.ndarray:
    """Draw one frame's bones (both ends valid) and valid joints onto `canvas` (BGR); returns it."""
    pts = points.tolist()  # plain ints: cv2 calls are much faster on tuples than on numpy scalars
    ok = valid.tolist()
    for (a, b), color in zip(bones, style.bone_colors):
        if ok[a] and ok[b]:
            cv2.line(canvas, pts[a], pts[b], color, style.thickness, cv2.LINE_AA, SUBPIXEL_BITS)
    for joint, point in enumerate(pts):
        if ok[joint]:
            cv2.circle(canvas, point, style.radius << SUBPIXEL_BITS, style.joint_color, -1, cv2.LINE_AA, SUBPIXEL_BITS)
    return canvas


def frame_indices(num_frames: int, clip_fps: float, fps: float) -> np.ndarray:
    """The clip frame shown at each output frame when playing at `fps` (nearest in time)."""
    count = max(1, int(round(num_frames * fps / clip_fps)))
    return np.minimum(np.round(np.arange(count) * clip_fps / fps).astype(np.int64), num_frames - 1)


def skeleton_frames(clip: MotionClip, size: Size = 512, camera: str = "follow", background: Sequence[int] | None = None,
                    bone_color: Sequence[int] | None = None, joint_color: Sequence[int] | None = None,
                    fps: float | None = None, reuse_buffer: bool = False, theme: Theme | None = None,
                    behind: np.ndarray | Iterator[np.ndarray] | None = None,
                    picks: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Yield (height, width, 3) BGR uint8 pictures of the clip, one per output frame at `fps` (default: the
    clip's), or of the clip frames `picks`.

    background: a flat RGB colour (default: the theme's); behind: a BGR picture of the frame's size, or
    an iterator of them (a video), drawn on instead. reuse_buffer=True yields one array redrawn each
    time (use each picture before asking for the next): a fresh array costs more than drawing the
    skeleton (page faults).
    """
    check_clip(clip)
    width, height = parse_size(size)
    style, bones = make_style(clip, (width, height), background, bone_color, joint_color, theme)
    points = to_fixed_point(project(clip, (width, height), camera))
    blank = np.empty((height, width, 3), dtype=np.uint8)
    blank[:] = style.background
    moving = behind is not None and not isinstance(behind, np.ndarray)
    if behind is not None and not moving:
        blank[:] = behind
    canvas = np.empty_like(blank)
    picks = frame_indices(clip.num_frames, clip.fps, fps or clip.fps) if picks is None else np.asarray(picks)
    for index in picks.tolist():
        if not reuse_buffer:
            canvas = np.empty_like(blank)
        np.copyto(canvas, next(behind) if moving else blank)
        yield draw_skeleton(canvas, points[index], clip.valid[index], bones, style)


def check_clip(clip: MotionClip) -> None:
    if clip.num_frames == 0:
        raise GenseqError(f"motion clip '{clip.name or '(unnamed)'}' has no frames")
    if not clip.fps > 0:
        raise GenseqError(f"motion clip '{clip.name or '(unnamed)'}' has frame rate {clip.fps}")


def picture_frames(clip: MotionClip, size: Size, camera: str, style: str, fps: float | None = None,
                   background=None, theme: str | Theme | None = None, picks: np.ndarray | None = None,
                   **stick) -> Iterator[np.ndarray]:
    """The frames of either style (one reused array), at `fps` or at the clip frames `picks`. background:
    None (the theme's), R,G,B, or a picture or video file (genseq/core/looks.py); stick takes bone_color
    and joint_color too."""
    if style not in STYLES:
        raise GenseqError(f"style must be one of {', '.join(STYLES)}, got '{style}'")
    check_clip(clip)
    width, height = parse_size(size)
    project(clip, (width, height), camera)  # the camera check, for both styles
    theme = resolve_theme(theme)
    backdrop = parse_background(background)
    picks = frame_indices(clip.num_frames, clip.fps, fps or clip.fps) if picks is None else np.asarray(picks)
    behind = behind_figure(backdrop, width, height, fps or clip.fps, len(picks))
    if style == "stick":
        return skeleton_frames(clip, (width, height), camera, backdrop.colour, reuse_buffer=True, theme=theme,
                               behind=behind, picks=picks, **stick)
    from genseq.motion.figure import figure_frames

    flat = None if backdrop.colour is None else bgr(backdrop.colour)
    return figure_frames(clip, width, picks, True, flat, camera, height, theme, behind)


def behind_figure(backdrop: Background, width: int, height: int, fps: float, count: int):
    """What the dancer is drawn on: None (a colour), one BGR picture, or an iterator of count video frames."""
    if backdrop.kind == "picture":
        return read_picture(backdrop.path, width, height)
    if backdrop.kind == "video":
        return background_frames(backdrop.path, width, height, fps, count)
    return None


def check_size(size: Size) -> int | tuple[int, int]:
    """The size as (width, height); GenseqError if a side is odd or out of range."""
    return parse_size(size)


# ---------------------------------------------------------------------------------------------
# Videos


def render_video(clip: MotionClip, out_path: str | Path, size: Size = 512, background=None,
                 bone_color: Sequence[int] | None = None, joint_color: Sequence[int] | None = None,
                 camera: str = "follow", side_by_side_video: str | Path | None = None,
                 audio: str | Path | None = None, fps: float | None = None, preset: str | None = None,
                 style: str = "figure", theme: str | Theme | None = None, cover: str | Path | None = None) -> Path:
    """Write the clip as an H.264 MP4 (or .mov) that plays in browsers and uploads as it is, atomically.

    size: one side (a square), "WIDTHxHEIGHT", (width, height) or a preset (vertical, wide, square).
    background: None (the theme's sky and floor), R,G,B, or a picture or video file behind the dancer.
    theme: a theme name or R,G,B for the figure (genseq/core/looks.py). side_by_side_video: a video shown
    left of it at the same height, frame picked by time. audio: a sound file, loudness-normalised
    (-14 LUFS, true peak under -1 dBTP) and muxed in as AAC at 48 kHz; the output ends with the shorter
    of picture and sound. fps: the output frame rate (default: the clip's; other rates pick the nearest
    clip frame). preset: x264's speed/size trade-off (default: genseq/core/ffmpeg.py's choice by frame
    size; veryfast for small stick videos). style: "figure" (shaded capsules on a floor) or "stick".
    cover: also a JPEG cover picture (thumbnail) of the video's most open pose, at this path.
    """
    out_path = Path(out_path)
    width, height = parse_size(size)
    check_clip(clip)
    muxer = VIDEO_SUFFIXES.get(out_path.suffix.lower())
    if muxer is None:
        raise GenseqError(f"video output must end in {' or '.join(VIDEO_SUFFIXES)}", out_path)
    audio_path = Path(audio) if audio is not None else None
    if audio_path is not None and not audio_path.is_file():
        raise GenseqError("no such audio file", audio_path)
    fps = float(fps or clip.fps)
    look = {"camera": camera, "style": style, "background": background, "theme": theme,
            "bone_color": bone_color, "joint_color": joint_color}
    source = SourceVideo(side_by_side_video, height) if side_by_side_video is not None else None
    try:
        frames = picture_frames(clip, (width, height), fps=fps, **without_stick_colours(look))
        if source is not None:
            frames = beside_source(frames, source, fps)
            width += source.width
        with tempfile.TemporaryDirectory(prefix="genseq-sound-") as folder, atomic_path(out_path) as tmp:
            sound = normalised_sound(audio_path, Path(folder))
            preset = preset or (X264_PRESET if style == "stick" and width * height < 1_000_000 else None)
            pipe_frames(h264_command(tmp, width, height, fps, sound, muxer, preset), i420_frames(frames), out_path)
            if cover is not None:
                from genseq.motion.cover import write_cover

                write_cover(clip, cover, (width - (source.width if source else 0), height), look)
    finally:
        if source is not None:
            source.close()
    return out_path


def without_stick_colours(look: dict) -> dict:
    """picture_frames' arguments: the stick's own colours only for the stick."""
    if look["style"] == "stick":
        return look
    return {key: value for key, value in look.items() if key not in ("bone_color", "joint_color")}


def normalised_sound(audio: Path | None, folder: Path) -> Path | None:
    """The song as a 48 kHz WAV at -14 LUFS, true peak under -1 dBTP (genseq/core/loudness.py), in folder."""
    if audio is None:
        return None
    from genseq.core.loudness import normalised_copy

    return normalised_copy(audio, folder / "sound.wav")


# ---------------------------------------------------------------------------------------------
# Previews


def render_preview(clip: MotionClip, out_path: str | Path, size: Size = 256, camera: str = "follow",
                   columns: int = 4, rows: int = 3, style: str = "figure", theme: str | Theme | None = None) -> Path:
    """A quick look at a clip, atomically: an animated .gif (at most 12.5 fps) or a .png/.jpg contact
    sheet of columns x rows frames evenly spaced in time, each labelled with its time; frames of `size`.

    GIFs are made by ffmpeg with one palette computed for the whole clip: ffmpeg is always
    there (imageio-ffmpeg is a dependency), imageio itself is not installed.
    """
    out_path = Path(out_path)
    width, height = parse_size(size)
    check_clip(clip)
    suffix = out_path.suffix.lower()
    if suffix == ".gif":
        fps = min(clip.fps, PREVIEW_GIF_FPS)
        with atomic_path(out_path) as tmp:
            frames = picture_frames(clip, (width, height), camera, style, fps, theme=theme)
            pipe_frames(gif_command(tmp, width, height, fps), frames, out_path)
    elif suffix in (".png", ".jpg", ".jpeg"):
        sheet = contact_sheet(clip, (width, height), camera, columns, rows, style, theme)
        ok, encoded = cv2.imencode(suffix, sheet)
        if not ok:
            raise GenseqError("could not encode the preview picture", out_path)
        atomic_write_bytes(out_path, encoded.tobytes())
    else:
        raise GenseqError("preview must end in .gif, .png or .jpg", out_path)
    return out_path


def contact_sheet(clip: MotionClip, size: Size, camera: str, columns: int, rows: int, look: str = "stick",
                  theme: str | Theme | None = None) -> np.ndarray:
    """(rows * height, columns * width, 3) BGR grid of frames evenly spaced over the clip, each labelled with its time."""
    if columns < 1 or rows < 1:
        raise GenseqError(f"a contact sheet needs at least one column and row, got {columns}x{rows}")
    width, height = parse_size(size)
    sheet = np.empty((rows * height, columns * width, 3), dtype=np.uint8)
    picks = np.round(np.linspace(0, clip.num_frames - 1, columns * rows)).astype(np.int64)
    pictures = picture_frames(clip, (width, height), camera, look, theme=theme, picks=picks)
    label = min(width, height)
    for cell, (index, picture) in enumerate(zip(picks.tolist(), pictures)):
        top, left = (cell // columns) * height, (cell % columns) * width
        view = sheet[top:top + height, left:left + width]
        view[:] = picture
        cv2.rectangle(view, (0, 0), (width - 1, height - 1), (60, 60, 66), 1)
        cv2.putText(view, f"{index / clip.fps:.1f} s", (max(4, label // 40), max(14, label // 14)),
                    cv2.FONT_HERSHEY_SIMPLEX, max(0.35, label / 512), (160, 160, 170), 1, cv2.LINE_AA)
    return sheet


def read_clip_file(path: str | Path, fps: float = 30.0) -> MotionClip:
    """A clip from a .npz clip file or a BVH file (videos go through `genseq extract motion` first)."""
    from genseq.core.motion import load_clip, require_valid_joints
    from genseq.motion.bvh import read_bvh

    path = Path(path)
    if not path.is_file():
        raise GenseqError("is a folder, not a clip file" if path.is_dir() else "no such clip file", path)
    if path.suffix.lower() == ".npz":
        return require_valid_joints(load_clip(path), path)
    if path.suffix.lower() == ".bvh":
        return require_valid_joints(read_bvh(path, fps), path)
    raise GenseqError("not a motion clip: expected a .npz clip (from genseq extract motion) or a .bvh file", path)


def render_clip_file(clip_path: str | Path, out: str | Path | None = None, preview: str | Path | None = None,
                     **options) -> list[Path]:
    """Render a clip file to an H.264 MP4 (default: beside it) and optionally a GIF/PNG preview."""
    clip = read_clip_file(clip_path)
    out = Path(out) if out is not None else Path(clip_path).with_suffix(".mp4")
    written = [render_video(clip, out, **options)]
    if options.get("cover") is not None:
        written.append(Path(options["cover"]))
    if preview is not None:
        written.append(render_preview(clip, preview, camera=options.get("camera", "follow"),
                                      style=options.get("style", "figure"), theme=options.get("theme")))
    return written


def render_dance(options) -> list[Path]:
    """`genseq render dance`: the MP4 (default: beside the clip) and the optional preview, every output
    checked before the first is written."""
    from genseq.core.atomic import check_output_paths

    clip_path = Path(options.clip)
    out = Path(options.out) if options.out else clip_path.with_suffix(".mp4")
    if out.suffix.lower() not in VIDEO_SUFFIXES:
        raise GenseqError(f"a video output ends in {' or '.join(VIDEO_SUFFIXES)}", out)
    if options.preview is not None and Path(options.preview).suffix.lower() not in PREVIEW_SUFFIXES:
        raise GenseqError(f"a preview ends in {' or '.join(PREVIEW_SUFFIXES)}", options.preview)
    from genseq.motion.cover import cover_path

    cover = cover_path(out) if options.cover else None
    check_output_paths(out, options.preview, cover)
    parse_background(options.background)  # a missing background file: an error before anything is written
    return render_clip_file(clip_path, out, options.preview, **video_look(options), camera=options.camera,
                            side_by_side_video=options.side_by_side, audio=options.audio, style=options.style,
                            cover=cover)


def video_look(options) -> dict:
    """render_video's size, fps, theme and background from an options model (GenerateDanceOptions,
    RenderDanceOptions, MusicVideoOptions): what write_and_preview passes for each dance."""
    return {"size": options.size, "fps": options.fps, "theme": options.theme, "background": options.background}
