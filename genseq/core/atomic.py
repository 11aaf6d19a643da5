"""Atomic file writes: write to a temporary file beside the target, then rename.

A crash or a bad input never leaves a half-written MIDI, WAV, PNG or checkpoint.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
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


WRITE_FAILED = re.compile(r"no space left|file write failed|file too large|disk quota|read-only file system|unexpected pos", re.I)
OS_PROBLEMS = {errno.ENOSPC: "no space left on device", errno.EFBIG: "file too large (the file size limit was reached)",
               errno.EDQUOT: "disk quota exceeded", errno.EROFS: "read-only file system", errno.EACCES: "permission denied"}


def check_output_path(target: str | Path) -> Path:
    """Refuse an output path that cannot be a file here (a folder, a place we cannot create files in)
    before anything is written; a command checks all its outputs with this before writing the first."""
    target = Path(target)
    if target.is_dir():
        raise GenseqError("is a folder; give a file name for this output", target)
    ensure_writable_dir(target.parent)
    try:
        fd, probe = tempfile.mkstemp(prefix=temporary_affixes(target)[0], suffix=".probe", dir=target.parent)
    except OSError as exc:
        raise GenseqError(f"cannot write here ({OS_PROBLEMS.get(exc.errno) or exc.strerror or exc})", target) from None
    os.close(fd)
    os.unlink(probe)
    return target


def check_output_paths(*targets: str | Path | None) -> None:
    """check_output_path for every output of a command (None: an output not asked for)."""
    for target in targets:
        if target is not None:
            check_output_path(target)


def file_size_limit_reached(path: Path) -> bool:
    import resource

    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return limit != resource.RLIM_INFINITY and path.exists() and path.stat().st_size + 65536 >= limit


def disk_full(folder: Path) -> bool:
    try:
        fs = os.statvfs(folder)
    except OSError:
        return False
    return fs.f_bavail * fs.f_frsize < 1 << 20


def write_failure(exc: BaseException, tmp: Path, target: Path) -> GenseqError | None:
    """What a failure while writing `tmp` means for `target`, when it is the disk's fault (else None).

    torch, libsndfile and cv2 report a full disk in their own words (RuntimeError, LibsndfileError,
    AssertionError): recognise it by the disk's state and the file size limit as well as the message."""
    if isinstance(exc, GenseqError):
        return None
    if isinstance(exc, OSError):
        if exc.filename is not None and os.fsdecode(exc.filename) != str(tmp):
            return None  # about another file (an input): the CLI names that one
        return GenseqError(f"cannot write ({OS_PROBLEMS.get(exc.errno) or exc.strerror or exc})", target)
    if disk_full(target.parent):
        return GenseqError("cannot write (no space left on device)", target)
    if file_size_limit_reached(tmp):
        return GenseqError("cannot write (file too large: the file size limit was reached)", target)
    if isinstance(exc, (RuntimeError, AssertionError)) and WRITE_FAILED.search(str(exc)):
        return GenseqError(f"cannot write ({str(exc).strip().splitlines()[0][:120]})", target)
    return None


def temporary_affixes(target: Path) -> tuple[str, str]:
    """The prefix and suffix of the temporary file beside `target` (mkstemp puts 8 random characters between)."""
    return f".{target.stem}.", f".tmp{target.suffix}"


def longest_name_written(target: str | Path) -> str:
    """The longest file name writing `target` atomically makes in its folder: the target's own, or its
    temporary file's (with X for the random characters). A file system limits each name (NAME_MAX)."""
    target = Path(target)
    prefix, suffix = temporary_affixes(target)
    return max(target.name, f"{prefix}XXXXXXXX{suffix}", f"{prefix}XXXXXXXX.probe", key=lambda name: len(os.fsencode(name)))


def name_limit(folder: str | Path) -> int:
    """The longest file name (in bytes) the file system under `folder` (or its nearest existing parent) allows."""
    for place in [Path(folder), *Path(folder).parents]:
        try:
            return os.pathconf(place, "PC_NAME_MAX")
        except (OSError, ValueError):
            continue
    return 255


def temporary_beside(target: Path) -> Path:
    """A new empty hidden file beside `target`, with its suffix (libraries pick the format from it)."""
    if target.is_dir():
        raise GenseqError("is a folder; give a file name for this output", target)
    ensure_writable_dir(target.parent)
    prefix, suffix = temporary_affixes(target)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=target.parent)
    except OSError as exc:
        raise GenseqError(f"cannot write here ({OS_PROBLEMS.get(exc.errno) or exc.strerror or exc})", target) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600 files; outputs follow the umask
    except OSError:
        tmp.unlink()
        raise
    return tmp


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target` (same suffix); rename it onto `target` on success.

    Libraries that choose the format from the suffix (cv2, soundfile, torch) write to the
    yielded path; on any exception the temporary file is removed and `target` is untouched.
    A write that fails for want of space or permission is a GenseqError naming `target`.
    """
    target = Path(target)
    tmp = temporary_beside(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException as exc:
        failure = write_failure(exc, tmp, target) if isinstance(exc, Exception) else None
        if failure is not None:
            raise failure from None
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def same_file(a: Path, b: Path) -> bool:
    return os.path.normpath(os.path.abspath(a)) == os.path.normpath(os.path.abspath(b))


class OutputGroup:
    """The outputs of one command, written to temporary files and renamed together at the end."""

    def __init__(self) -> None:
        self.pending: list[tuple[Path, Path]] = []  # (temporary, target)

    def path(self, target: str | Path) -> Path:
        """The temporary path to write `target` to (same suffix); renamed onto `target` if the whole group succeeds."""
        target = Path(target)
        if any(same_file(target, known) for _, known in self.pending):
            raise GenseqError("is written twice by this command (two outputs share one name)", target)
        tmp = temporary_beside(target)
        self.pending.append((tmp, target))
        return tmp

    def real_name(self, failure: GenseqError) -> GenseqError:
        """A failure that names one of the group's temporary files names its target instead."""
        for tmp, target in self.pending:
            if failure.path == tmp:
                return GenseqError(failure.problem, target)
        return failure


@contextlib.contextmanager
def atomic_outputs() -> Iterator[OutputGroup]:
    """All or nothing for a command's outputs: every path from group.path() is renamed onto its
    target only when the whole block succeeds; on any failure none of them appears, and the
    targets keep what they held. Writers may use atomic_path on the temporary paths too."""
    group = OutputGroup()
    try:
        yield group
        for tmp, target in group.pending:
            os.replace(tmp, target)
    except GenseqError as exc:
        raise group.real_name(exc) from None
    except Exception as exc:
        failure = write_failure(exc, *group.pending[-1]) if group.pending else None
        if failure is not None:
            raise failure from None
        raise
    finally:
        for tmp, _ in group.pending:
            if tmp.exists():
                tmp.unlink()


def atomic_write_bytes(target: str | Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | Path, text: str) -> Path:
    return atomic_write_bytes(target, text.encode("utf-8"))


@contextlib.contextmanager
def folder_kept_only_on_success(folder: str | Path) -> Iterator[Path]:
    """A command's output folder: if the command made it and fails before writing anything into
    it, the empty folder (and any empty parents it made) goes again, so a failure leaves nothing."""
    folder = Path(folder)
    made = [p for p in [folder, *folder.parents] if not p.exists()]
    try:
        yield folder
    except BaseException:
        for path in made:  # deepest first
            with contextlib.suppress(OSError):
                path.rmdir()
        raise
