"""Which failures a retry may fix: I/O hiccups and timeouts, never bad input."""

from __future__ import annotations

import errno

from genseq.core.errors import GenseqError

TRANSIENT_ERRNOS = frozenset({errno.EIO, errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.ESTALE, errno.EINTR})


def is_transient(exc: BaseException) -> bool:
    """An error a retry may fix: I/O hiccups and timeouts, or one that says so (transient = True);
    never bad input (GenseqError)."""
    if getattr(exc, "transient", False):
        return True
    if isinstance(exc, GenseqError):
        return False
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS
