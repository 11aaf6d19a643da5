"""Pictures of a MotionClip: H.264 MP4 videos (optionally beside the source video, with audio) and
previews (animated GIF or a PNG contact sheet), in two styles: "stick" (the skeleton's bones as lines,
drawn here) and "figure" (shaded capsules on a floor, genseq/motion/figure.py).

The view is orthographic from the front: world x to the right, y up (z is dropped). A BVH skeleton
faces +z, so it faces the viewer and its left side is drawn on the right. Stick colours are RGB; left
bones are orange, right bones blue, the rest grey, unless one `bone_color` is given.

Video frames go as raw BGR bytes through a pipe into the ffmpeg binary that imageio-ffmpeg ships (the
pip builds of OpenCV have no H.264 encoder), which writes libx264 yuv420p with the index at the front
(+faststart): the file plays in browsers. Drawing (cv2, here) and encoding (ffmpeg) run side by side.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from genseq.core.atomic import atomic_path, atomic_write_bytes
from genseq.core.errors import GenseqError
from genseq.core.ffmpeg import ffmpeg_exe
from genseq.core.motion import MotionClip
from genseq.motion.side_by_side import SourceVideo, beside_source
from genseq.motion.skeleton import BONES

RGB = tuple[int, int, int]
BACKGROUND: RGB = (20, 20, 24)
LEFT_COLOR: RGB = (255, 150, 50)
RIGHT_COLOR: RGB = (70, 160, 255)
CENTRE_COLOR: RGB = (200, 200, 205)
JOINT_COLOR: RGB = (245, 245, 245)
MARGIN = 0.08           # of the picture, kept free around the skeleton
SUBPIXEL_BITS = 4       # cv2 draws at 1/16 pixel: smooth motion at small sizes
VIDEO_SUFFIXES = {".mp4": "mp4", ".mov": "mov"}
PREVIEW_SUFFIXES = (".gif", ".png", ".jpg", ".jpeg")
X264_PRESET = "veryfast"
FIGURE_PRESET = "superfast"  # shaded pictures take x264 longer: a faster preset keeps the figure as quick as the stick
X264_CRF = "20"
PREVIEW_GIF_FPS = 12.5     # GIF delays are whole 1/100 s: 8 of them here, so the rate is exact
STYLES = ("figure", "stick")


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


def bone_side_color(a: str, b: str) -> RGB:
    sides = {name.split("_")[0] for name in (a, b)} & {"left", "right"}
    if sides == {"left"}:
        return LEFT_COLOR
    if sides == {"right"}:
        return RIGHT_COLOR
    return CENTRE_COLOR


def make_style(clip: MotionClip, size: int, background: Sequence[int] = BACKGROUND,
               bone_color: Sequence[int] | None = None, joint_color: Sequence[int] = JOINT_COLOR) -> tuple[Style, list]:
    bones = skeleton_bones(clip.joint_names)
    names = clip.joint_names
    colors = [bgr(bone_color) if bone_color is not None else bgr(bone_side_color(names[a], names[b])) for a, b in bones]
    style = Style(bgr(background), colors, bgr(joint_color), thickness=max(1, round(size / 170)),
                  radius=max(2, round(size / 128)))
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


def project(clip: MotionClip, size: int, camera: str = "follow") -> np.ndarray:
    """(frames, joints, 2) pixel coordinates (x right, y down) in a size x size picture.

    fixed: one view that holds every valid joint of the whole clip. follow: centred on the
    body each frame, at one scale for the whole clip that keeps every valid joint inside.
    """
    if camera not in ("follow", "fixed"):
        raise GenseqError(f"camera must be 'follow' or 'fixed', got '{camera}'")
    xy = np.where(clip.valid[..., None], clip.positions[..., :2], 0.0).astype(np.float64)  # invalid may be NaN
    points = xy[clip.valid]
    usable = size * (1 - 2 * MARGIN)
    if camera == "fixed":
        low, high = (points.min(axis=0), points.max(axis=0)) if len(points) else (np.zeros(2), np.ones(2))
        centres = np.broadcast_to((low + high) / 2, (len(xy), 2))
        extent = float((high - low).max())
    else:
        centres = body_centres(clip)
        offsets = np.abs(xy - centres[:, None, :])[clip.valid]
        extent = 2 * float(offsets.max()) if len(offsets) else 1.0
    scale = usable / max(extent, 1e-6)
    pixels = (xy - centres[:, None, :]) * scale * np.array([1.0, -1.0]) + size / 2
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


def skeleton_frames(clip: MotionClip, size: int = 512, camera: str = "follow", background: Sequence[int] = BACKGROUND,
                    bone_color: Sequence[int] | None = None, joint_color: Sequence[int] = JOINT_COLOR,
                    fps: float | None = None, reuse_buffer: bool = False) -> Iterator[np.ndarray]:
    """Yield (size, size, 3) BGR uint8 pictures of the clip, one per output frame at `fps` (default: the clip's).

    reuse_buffer=True yields one array redrawn each time (use each picture before asking for
    the next): a fresh 512x512 array costs more than drawing the skeleton (page faults).
    """
    check_clip(clip)
    style, bones = make_style(clip, size, background, bone_color, joint_color)
    points = to_fixed_point(project(clip, size, camera))
    blank = np.empty((size, size, 3), dtype=np.uint8)
    blank[:] = style.background
    canvas = np.empty_like(blank)
    for index in frame_indices(clip.num_frames, clip.fps, fps or clip.fps).tolist():
        if not reuse_buffer:
            canvas = np.empty_like(blank)
        np.copyto(canvas, blank)
        yield draw_skeleton(canvas, points[index], clip.valid[index], bones, style)


def check_clip(clip: MotionClip) -> None:
    if clip.num_frames == 0:
        raise GenseqError(f"motion clip '{clip.name or '(unnamed)'}' has no frames")
    if not clip.fps > 0:
        raise GenseqError(f"motion clip '{clip.name or '(unnamed)'}' has frame rate {clip.fps}")


def picture_frames(clip: MotionClip, size: int, camera: str, style: str, fps: float | None = None,
                   background: Sequence[int] = BACKGROUND, **stick) -> Iterator[np.ndarray]:
    """The frames of either style (one reused array); stick takes bone_color and joint_color too."""
    if style == "stick":
        return skeleton_frames(clip, size, camera, background, fps=fps, reuse_buffer=True, **stick)
    if style != "figure":
        raise GenseqError(f"style must be one of {', '.join(STYLES)}, got '{style}'")
    from genseq.motion.figure import figure_frames

    check_clip(clip)
    project(clip, size, camera)  # the same camera check as the stick figure's
    flat = None if tuple(background) == BACKGROUND else bgr(background)
    return figure_frames(clip, size, frame_indices(clip.num_frames, clip.fps, fps or clip.fps), True, flat, camera)


def check_size(size: int) -> int:
    if int(size) != size or size < 16 or size % 2:
        raise GenseqError(f"picture size must be an even number of pixels, at least 16, got {size}")
    return int(size)


# ---------------------------------------------------------------------------------------------
# Encoding


def raw_input_args(width: int, height: int, fps: float) -> list[str]:
    return ["-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", f"{fps:.6g}", "-i", "pipe:0"]


def h264_command(target: Path, width: int, height: int, fps: float, audio: Path | None, muxer: str,
                 preset: str = X264_PRESET) -> list[str]:
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *raw_input_args(width, height, fps)]
    if audio is not None:
        command += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", "160k", "-shortest"]
    command += ["-c:v", "libx264", "-preset", preset, "-crf", X264_CRF, "-pix_fmt", "yuv420p",
                "-movflags", "+faststart", "-f", muxer, str(target)]
    return command


def gif_command(target: Path, width: int, height: int, fps: float) -> list[str]:
    # one palette for the whole clip: few colours here, and no dithering noise on the flat background
    palette = "[0:v]split[a][b];[a]palettegen=max_colors=64:stats_mode=full[p];[b][p]paletteuse=dither=none"
    return [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *raw_input_args(width, height, fps),
            "-filter_complex", palette, "-loop", "0", "-f", "gif", str(target)]


def pipe_frames(command: list[str], frames: Iterator[np.ndarray], output: Path) -> int:
    """Run ffmpeg, feed it the frames on stdin; GenseqError with ffmpeg's message if it fails.

    On any error (a drawing bug, Ctrl-C) ffmpeg is killed before the error goes on; the
    caller's atomic_path then removes the half-written file. Returns the frame count.
    """
    count = 0
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: ffmpeg can never block on a full stderr
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            try:
                for frame in frames:
                    process.stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
                    count += 1
                process.stdin.close()
            except BrokenPipeError:  # ffmpeg stopped reading: its exit code and message say why
                close_quietly(process.stdin)
            code = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            close_quietly(process.stdin)
            raise
        if code != 0:
            errors.seek(0)
            message = " ".join(errors.read().decode("utf-8", "replace").split())[-400:]
            raise GenseqError(f"ffmpeg failed (exit {code}): {message or 'no message'}", output)
    return count


def close_quietly(stream) -> None:
    try:
        stream.close()
    except OSError:  # the unflushed rest of a pipe nobody reads any more
        pass


def render_video(clip: MotionClip, out_path: str | Path, size: int = 512, background: Sequence[int] = BACKGROUND,
                 bone_color: Sequence[int] | None = None, joint_color: Sequence[int] = JOINT_COLOR,
                 camera: str = "follow", side_by_side_video: str | Path | None = None,
                 audio: str | Path | None = None, fps: float | None = None, preset: str | None = None,
                 style: str = "stick") -> Path:
    """Write the clip as a browser-playable H.264 MP4 (or .mov), atomically.

    size: the picture's side in pixels (even). side_by_side_video: a video shown left of it at the
    same height, frame picked by time. audio: a sound file muxed in as AAC; the output ends with the
    shorter of picture and sound. fps: the output frame rate (default: the clip's; other rates pick
    the nearest clip frame). preset: x264's speed/size trade-off (ultrafast ... veryslow; default
    veryfast for the stick, superfast for the figure).
    style: "stick" (bones as lines) or "figure" (shaded capsules on a floor).
    """
    out_path = Path(out_path)
    size = check_size(size)
    check_clip(clip)
    muxer = VIDEO_SUFFIXES.get(out_path.suffix.lower())
    if muxer is None:
        raise GenseqError(f"video output must end in {' or '.join(VIDEO_SUFFIXES)}", out_path)
    audio_path = Path(audio) if audio is not None else None
    if audio_path is not None and not audio_path.is_file():
        raise GenseqError("no such audio file", audio_path)
    fps = float(fps or clip.fps)
    source = SourceVideo(side_by_side_video, size) if side_by_side_video is not None else None
    try:
        frames = picture_frames(clip, size, camera, style, fps, background, bone_color=bone_color, joint_color=joint_color)
        width = size
        if source is not None:
            frames = beside_source(frames, source, fps)
            width += source.width
        with atomic_path(out_path) as tmp:
            preset = preset or (FIGURE_PRESET if style == "figure" else X264_PRESET)
            pipe_frames(h264_command(tmp, width, size, fps, audio_path, muxer, preset), frames, out_path)
    finally:
        if source is not None:
            source.close()
    return out_path


# ---------------------------------------------------------------------------------------------
# Previews


def render_preview(clip: MotionClip, out_path: str | Path, size: int = 256, camera: str = "follow",
                   columns: int = 4, rows: int = 3, style: str = "stick") -> Path:
    """A quick look at a clip, atomically: an animated .gif (size x size, at most 12.5 fps) or a
    .png/.jpg contact sheet of columns x rows frames evenly spaced in time (each size x size,
    labelled with its time).

    GIFs are made by ffmpeg with one palette computed for the whole clip: ffmpeg is always
    there (imageio-ffmpeg is a dependency), imageio itself is not installed.
    """
    out_path = Path(out_path)
    size = check_size(size)
    check_clip(clip)
    suffix = out_path.suffix.lower()
    if suffix == ".gif":
        fps = min(clip.fps, PREVIEW_GIF_FPS)
        with atomic_path(out_path) as tmp:
            pipe_frames(gif_command(tmp, size, size, fps), picture_frames(clip, size, camera, style, fps), out_path)
    elif suffix in (".png", ".jpg", ".jpeg"):
        sheet = contact_sheet(clip, size, camera, columns, rows, style)
        ok, encoded = cv2.imencode(suffix, sheet)
        if not ok:
            raise GenseqError("could not encode the preview picture", out_path)
        atomic_write_bytes(out_path, encoded.tobytes())
    else:
        raise GenseqError("preview must end in .gif, .png or .jpg", out_path)
    return out_path


def contact_sheet(clip: MotionClip, size: int, camera: str, columns: int, rows: int, look: str = "stick") -> np.ndarray:
    """(rows * size, columns * size, 3) BGR grid of frames evenly spaced over the clip, each labelled with its time."""
    if columns < 1 or rows < 1:
        raise GenseqError(f"a contact sheet needs at least one column and row, got {columns}x{rows}")
    style, bones = make_style(clip, size)
    points = to_fixed_point(project(clip, size, camera))
    sheet = np.empty((rows * size, columns * size, 3), dtype=np.uint8)
    sheet[:] = style.background
    picks = np.round(np.linspace(0, clip.num_frames - 1, columns * rows)).astype(np.int64)
    figures = None
    if look == "figure":
        from genseq.motion.figure import figure_frames
        figures = figure_frames(clip, size, picks, camera=camera)
    for cell, index in enumerate(picks.tolist()):
        top, left = (cell // columns) * size, (cell % columns) * size
        view = sheet[top:top + size, left:left + size]
        if figures is not None:
            view[:] = next(figures)
        else:
            draw_skeleton(view, points[index], clip.valid[index], bones, style)
        cv2.rectangle(view, (0, 0), (size - 1, size - 1), (60, 60, 66), 1)
        cv2.putText(view, f"{index / clip.fps:.1f} s", (max(4, size // 40), max(14, size // 14)),
                    cv2.FONT_HERSHEY_SIMPLEX, max(0.35, size / 512), (160, 160, 170), 1, cv2.LINE_AA)
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
    if preview is not None:
        written.append(render_preview(clip, preview, camera=options.get("camera", "follow"), style=options.get("style", "stick")))
    return written


def render_dance_options(options) -> list[Path]:
    """`genseq render dance`: the MP4 (default: beside the clip) and the optional preview, every output
    checked before the first is written."""
    from genseq.core.atomic import check_output_paths

    clip_path = Path(options.clip)
    out = Path(options.out) if options.out else clip_path.with_suffix(".mp4")
    if out.suffix.lower() not in VIDEO_SUFFIXES:
        raise GenseqError(f"a video output ends in {' or '.join(VIDEO_SUFFIXES)}", out)
    if options.preview is not None and Path(options.preview).suffix.lower() not in PREVIEW_SUFFIXES:
        raise GenseqError(f"a preview ends in {' or '.join(PREVIEW_SUFFIXES)}", options.preview)
    check_output_paths(out, options.preview)
    return render_clip_file(clip_path, out, options.preview, size=options.size, camera=options.camera,
                            background=options.background_rgb(), side_by_side_video=options.side_by_side,
                            audio=options.audio, style=options.style)
