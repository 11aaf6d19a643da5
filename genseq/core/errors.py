"""User-facing errors: one clear line naming the file and the problem."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Iterator


class GenseqError(Exception):
    """An error the user can fix; the CLI prints it as one line and exits non-zero."""

    def __init__(self, problem: str, path: str | Path | None = None):
        self.path = None if path is None else Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)


NATIVE_NOTICE = re.compile(r"^(Note: |\[src/libmpg123/|warning: |Warning: |mpg123)")


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Keep C libraries' notices (mpg123 inside libsndfile: "Note: Illegal Audio-MPEG-Header...")
    off the terminal, so a refused file is still one line: file descriptor 2 goes to a temporary
    file for the block, and whatever is not such a notice is written back afterwards.
    Wrap short native calls only: for the block, the whole process's fd 2 is redirected."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not NATIVE_NOTICE.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
