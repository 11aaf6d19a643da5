"""Atomic file writes: write to a temporary file beside the target, then rename.

A crash or a bad input never leaves a half-written MIDI, WAV, PNG or checkpoint.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from genseq.core.errors import GenseqError


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def ensure_writable_dir(directory: str | Path) -> Path:
    """Create `directory` if needed and check we can write there, with a clear error if not."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenseqError(f"cannot create output folder ({exc.strerror or exc})", directory) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise GenseqError("output folder is not writable", directory)
    return directory


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target` (same suffix); rename it onto `target` on success.

    Libraries that choose the format from the suffix (cv2, soundfile, torch) write to the
    yielded path; on any exception the temporary file is removed and `target` is untouched.
    """
    target = Path(target)
    ensure_writable_dir(target.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600 files; outputs follow the umask
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(target: str | Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | Path, text: str) -> Path:
    return atomic_write_bytes(target, text.encode("utf-8"))
