"""The run-folder lock: one training at a time writes into a run folder.

``RUN/.lock`` is locked with ``fcntl.flock`` (non-blocking). A second process (or thread) asking
for the same folder is refused at once with one line; the lock is the kernel's, so it goes
away with the process that held it, even after ``kill -9``. The holder removes the file when it
lets go (normal end, error, Ctrl-C); only a killed holder leaves it behind, and such a file, held
by no process, blocks nothing. The lock is re-entrant within one thread, so a domain can lock
around its own bookkeeping (data.json) and then call the trainer, which locks again.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import inspect
import os
import threading
from pathlib import Path
from typing import Callable, Iterator

from genseq.core.atomic import ensure_writable_dir
from genseq.core.errors import GenseqError

LOCK_NAME = ".lock"

_held: dict[tuple[str, int], list] = {}  # (folder, thread id) -> [fd, depth]
_guard = threading.Lock()


def _key(folder: Path) -> tuple[str, int]:
    return str(folder.resolve()), threading.get_ident()


def _acquire(folder: Path) -> None:
    key = _key(folder)
    with _guard:
        if key in _held:
            _held[key][1] += 1
            return
        if any(name == key[0] for name, _ in _held):
            raise GenseqError("run folder is in use by another training in this process; wait for it or use another --out", folder)
        fd = _open_and_lock(folder / LOCK_NAME)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _held[key] = [fd, 1]


def _open_and_lock(path: Path) -> int:
    """A descriptor holding the flock of the file now at `path`. A holder removes the file as it lets go:
    a lock taken on the file it removed is no lock, so take the one now there instead."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise GenseqError("run folder is in use by another training (its .lock is held); wait for it or use another --out",
                              path.parent) from None
        if _is_file_at(fd, path):
            return fd
        os.close(fd)


def _is_file_at(fd: int, path: Path) -> bool:
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino)


def _release(folder: Path) -> None:
    key = _key(folder)
    with _guard:
        entry = _held[key]
        entry[1] -= 1
        if entry[1] == 0:
            del _held[key]
            try:  # removed while still held, so no other process can have taken this file meanwhile
                if _is_file_at(entry[0], folder / LOCK_NAME):
                    os.unlink(folder / LOCK_NAME)
            except OSError:
                pass
            finally:
                os.close(entry[0])  # closing the descriptor releases the flock


def is_locked(folder: str | Path) -> bool:
    """Whether some process holds the folder's lock (tries it without waiting)."""
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def remove_if_empty(folder: Path) -> None:
    """A run folder this lock made and nothing was written into goes again: no new folder on a refusal.
    (Never a lock file: one there now belongs to another process that took the folder since.)"""
    try:
        folder.rmdir()
    except OSError:
        pass


@contextlib.contextmanager
def run_lock(folder: str | Path) -> Iterator[Path]:
    """Hold RUN/.lock for the block (making RUN if needed); GenseqError at once if another holds it.
    RUN/.lock is removed as the block ends, however it ends; if the block fails and the folder was made
    here and is empty, the folder is removed too."""
    folder = Path(folder)
    made = not folder.exists()
    folder = ensure_writable_dir(folder)
    _acquire(folder)
    ok = False
    try:
        yield folder
        ok = True
    finally:
        _release(folder)
        if made and not ok and _key(folder) not in _held:
            remove_if_empty(folder)


def locks_run_folder(argument: str = "run_dir") -> Callable:
    """Decorator: the function runs holding the lock of the run folder passed as `argument`."""
    def decorate(function: Callable) -> Callable:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def locked(*args, **kwargs):
            folder = signature.bind(*args, **kwargs).arguments[argument]
            with run_lock(folder):
                return function(*args, **kwargs)

        return locked

    return decorate
