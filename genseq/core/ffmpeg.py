"""The one ffmpeg genseq runs: the binary imageio-ffmpeg ships (it has libx264), so no system ffmpeg is
needed. Here: feeding it raw frames through a pipe for H.264 files that upload and play as they are
(High profile, yuv420p, the index first, AAC at 48 kHz) or GIFs, and describing a media file as
ffprobe would (ffprobe itself is not shipped)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from genseq.core.errors import GenseqError

X264_CRF = "20"
LARGE_FRAME = 1_000_000        # pixels: from here on x264's fastest preset (with the 8x8 transform: still High)
AUDIO_RATE = 48000
AUDIO_BITRATE = "192k"
# cv2's BGR to I420 is BT.601 with the limited (tv) range: say so in the file, players then show the right colours
COLOUR_TAGS = ["-colorspace", "smpte170m", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]


def ffmpeg_exe() -> str:
    """The path of the bundled ffmpeg binary; GenseqError (one line) when it is missing."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise GenseqError(f"no ffmpeg to encode or decode audio and video (reinstall imageio-ffmpeg: {exc})") from None


def raw_input_args(width: int, height: int, fps: float, pix_fmt: str = "bgr24") -> list[str]:
    return ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{width}x{height}", "-r", f"{fps:.6g}", "-i", "pipe:0"]


def x264_args(width: int, height: int, preset: str | None = None) -> list[str]:
    """libx264 at High profile. Default preset: superfast, or ultrafast for frames of a megapixel and more
    (ultrafast alone turns the 8x8 transform off and the stream into Constrained Baseline; with it back
    on the stream is High, at nearly ultrafast's speed)."""
    preset = preset or ("ultrafast" if width * height >= LARGE_FRAME else "superfast")
    args = ["-c:v", "libx264", "-preset", preset, "-crf", X264_CRF, "-profile:v", "high"]
    if preset == "ultrafast":
        args += ["-x264-params", "8x8dct=1"]
    return args


def h264_command(target: Path, width: int, height: int, fps: float, audio: Path | None, muxer: str,
                 preset: str | None = None) -> list[str]:
    """ffmpeg reading I420 frames on stdin (and a sound file) and writing an MP4/MOV that uploads as it is."""
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *raw_input_args(width, height, fps, "yuv420p")]
    if audio is not None:
        command += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", AUDIO_BITRATE,
                    "-ar", str(AUDIO_RATE), "-shortest"]
    command += [*x264_args(width, height, preset), "-pix_fmt", "yuv420p", *COLOUR_TAGS,
                "-movflags", "+faststart", "-f", muxer, str(target)]
    return command


def gif_command(target: Path, width: int, height: int, fps: float) -> list[str]:
    # one palette for the whole clip: few colours here, and no dithering noise on the flat background
    palette = "[0:v]split[a][b];[a]palettegen=max_colors=64:stats_mode=full[p];[b][p]paletteuse=dither=none"
    return [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *raw_input_args(width, height, fps),
            "-filter_complex", palette, "-loop", "0", "-f", "gif", str(target)]


def i420_frames(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """BGR frames as planar I420 (one reused array): half the bytes through the pipe and no conversion in
    ffmpeg. cv2 converts on one thread, faster than its thread pool for one frame at a time."""
    import cv2

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        planes = None
        for frame in frames:
            if planes is None:
                planes = np.empty((frame.shape[0] * 3 // 2, frame.shape[1]), dtype=np.uint8)
            cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420, dst=planes)
            yield planes
    finally:
        cv2.setNumThreads(threads)


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


# ---------------------------------------------------------------------------------------------
# What a file holds


def top_level_boxes(path: str | Path) -> list[str]:
    """The names of an MP4/MOV file's top-level boxes, in order (ftyp, moov, mdat ...)."""
    names = []
    with open(path, "rb") as handle:
        while True:
            header = handle.read(8)
            if len(header) < 8:
                return names
            size, name = int.from_bytes(header[:4], "big"), header[4:8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(handle.read(8), "big") - 8
            elif size == 0:
                return names + [name]
            names.append(name)
            if size < 8:
                return names
            handle.seek(size - 8, 1)


def describe_media(path: str | Path) -> dict:
    """What ffprobe would say of a video file: video codec, profile, pixel format, size, frame rate;
    audio codec and sample rate; duration; whether the index (moov) comes before the media (mdat)."""
    info = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    video = next((line for line in info.splitlines() if "Video:" in line), "")
    audio = next((line for line in info.splitlines() if "Audio:" in line), "")
    size = re.search(r", (\d+)x(\d+)", video)
    fps = re.search(r", ([\d.]+) fps", video)
    rate = re.search(r", (\d+) Hz", audio)
    duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info)
    boxes = top_level_boxes(path) if Path(path).suffix.lower() in (".mp4", ".mov", ".m4v") else []
    return {
        "video_codec": (re.search(r"Video: (\w+)", video) or [None, None])[1],
        "profile": (re.search(r"Video: \w+ \(([^)]+)\)", video) or [None, None])[1],
        "pix_fmt": (re.search(r"\), (\w+)\(", video) or re.search(r", (yuv\w+|rgb\w+|bgr\w+|pal8)", video) or [None, None])[1],
        "width": int(size[1]) if size else None, "height": int(size[2]) if size else None,
        "fps": float(fps[1]) if fps else None,
        "audio_codec": (re.search(r"Audio: (\w+)", audio) or [None, None])[1],
        "audio_rate": int(rate[1]) if rate else None,
        "seconds": int(duration[1]) * 3600 + int(duration[2]) * 60 + float(duration[3]) if duration else None,
        "faststart": "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat"),
    }
