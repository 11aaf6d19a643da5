"""The one ffmpeg genseq runs: the binary imageio-ffmpeg ships (it has libx264), so no system ffmpeg is needed."""

from __future__ import annotations

from genseq.core.errors import GenseqError


def ffmpeg_exe() -> str:
    """The path of the bundled ffmpeg binary; GenseqError (one line) when it is missing."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise GenseqError(f"no ffmpeg to encode or decode audio and video (reinstall imageio-ffmpeg: {exc})") from None
