"""The one place where a failure becomes what the user sees: `genseq: error: PATH: problem`, exit 2.

Every failure a user can cause (a usage error, bad input, an output that cannot be written, a
full disk, too little memory, a missing device) is one line on stderr and exit code 2. A failure
that is a bug in genseq is one line too, with the full traceback in a log file it names.

Usage errors are recognised by protocol, not by class: typer 0.29 raises its own
``typer._click.exceptions`` classes, older typer and plain click raise click's. Both carry
``exit_code`` and ``format_message()``; both name the parameter (``param``) or option
(``option_name``) at fault.
"""

from __future__ import annotations

import datetime
import errno
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

from genseq.core.errors import GenseqError

USER_ERROR = 2
INTERRUPTED = 130

OS_PROBLEMS = {
    errno.ENOSPC: "no space left on device",
    errno.EFBIG: "file too large (the file size limit was reached)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.EISDIR: "is a folder, expected a file",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENOENT: "no such file or folder",
    errno.ELOOP: "symbolic link loop",
    errno.ENAMETOOLONG: "file name too long",
    errno.EIO: "input/output error",
}
DISK_FULL = re.compile(r"no space left|file write failed|file too large|disk quota|read-only file system", re.I)
OUT_OF_MEMORY = re.compile(r"can't allocate memory|out of memory|cannot allocate memory", re.I)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: object) -> str:
    """`text` as one printable line: newlines become spaces, other control bytes (NUL...) are escaped."""
    text = re.sub(r"\s*[\r\n]+\s*", " ", str(text)).strip()
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def is_exit(exc: BaseException) -> bool:
    """typer.Exit / click.exceptions.Exit: a requested exit code, not an error."""
    return type(exc).__name__ == "Exit" and isinstance(getattr(exc, "exit_code", None), int)


def is_abort(exc: BaseException) -> bool:
    return type(exc).__name__ == "Abort" and type(exc).__module__.split(".")[0] in ("typer", "click")


def is_usage_error(exc: BaseException) -> bool:
    """A click-protocol exception (typer's own classes or click's): exit_code plus format_message()."""
    return isinstance(getattr(exc, "exit_code", None), int) and callable(getattr(exc, "format_message", None))


def parameter_name(exc: BaseException) -> str | None:
    """The option (`--top-k`) or argument (`PATHS`) a usage error is about, when it knows."""
    option = getattr(exc, "option_name", None)
    if option:
        return option
    param = getattr(exc, "param", None)
    if param is None:
        hint = getattr(exc, "param_hint", None)
        return hint if isinstance(hint, str) else (" / ".join(hint) if hint else None)
    opts = [o for o in getattr(param, "opts", []) if o.startswith("--")] or list(getattr(param, "opts", []))
    if getattr(param, "param_type_name", "") == "argument":
        return (getattr(param, "name", None) or "argument").upper()
    return max(opts, key=len) if opts else getattr(param, "name", None)


def usage_message(exc: BaseException) -> str:
    """`--option: problem` for a usage error, with a pointer to --help."""
    name = parameter_name(exc)
    message = str(getattr(exc, "message", "") or "").strip()
    kind = type(exc).__name__
    if kind == "MissingParameter" or (not message and name):
        message = f"missing {getattr(getattr(exc, 'param', None), 'param_type_name', None) or 'value'}"
    elif kind == "NoSuchOption":
        possible = getattr(exc, "possibilities", None)
        message = "no such option" + (f" (did you mean {', '.join(sorted(possible))}?)" if possible else "")
    elif not message:
        message = one_line(exc.format_message())
    return f"{name + ': ' if name else ''}{message.rstrip('.')} (see '{command_name(getattr(exc, 'ctx', None))} --help')"


def command_name(ctx) -> str:
    """`genseq generate music` for a click context, whatever the program was started as."""
    names = []
    while ctx is not None and getattr(ctx, "parent", None) is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    return " ".join(["genseq", *reversed(names)])


def os_message(exc: OSError) -> str:
    """`PATH: problem` for an OSError, in words when its errno is a familiar one."""
    problem = OS_PROBLEMS.get(exc.errno) or (exc.strerror or type(exc).__name__).lower()
    names = [n for n in (exc.filename, exc.filename2) if n is not None]
    where = " -> ".join(os.fsdecode(n) if isinstance(n, (str, bytes)) else str(n) for n in names)
    return f"{where}: {problem}" if where else problem


def environment_message(exc: BaseException) -> str | None:
    """A one-line cause for failures of the machine rather than of genseq: memory, disk, devices."""
    text = str(exc)
    if isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and OUT_OF_MEMORY.search(text)):
        detail = f" ({one_line(text)[:160]})" if text else ""
        return f"out of memory{detail}; use smaller sizes or a larger --max-memory where the machine has it"
    if isinstance(exc, (RuntimeError, AssertionError)) and DISK_FULL.search(text):
        return f"cannot write output: {one_line(text)[:200]}"
    if isinstance(exc, ValueError) and "null byte" in text:
        return "a file name holds a NUL byte (\\x00); file names cannot contain one"
    if "not compiled with CUDA" in text or "No CUDA GPUs are available" in text or "Found no NVIDIA driver" in text:
        return "--device: no CUDA device on this machine; use --device cpu"
    return None


def log_folder() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "genseq" / "logs"


def write_log(exc: BaseException) -> str:
    """The full traceback of an internal error in a log file; returns its path (or why there is none)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = f"genseq {' '.join(sys.argv[1:])}\n\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    for folder in (log_folder(), Path(tempfile.gettempdir()) / "genseq-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8", errors="backslashreplace")
            return str(path)
        except OSError:
            continue
    return "unavailable (no writable log folder)"


def error_line(message: str) -> None:
    try:
        print(f"genseq: error: {one_line(message)}", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed or a broken pipe: nothing else to tell
        pass


def report(exc: BaseException) -> int:
    """Print what `exc` means for the user (one line) and return the exit code."""
    if is_exit(exc):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt) or is_abort(exc):
        print("genseq: interrupted", file=sys.stderr)
        return INTERRUPTED
    if isinstance(exc, GenseqError):
        error_line(str(exc))
        return USER_ERROR
    if is_usage_error(exc):
        if type(exc).__name__ == "NoArgsIsHelpError":  # a group with no command: show its help
            print(exc.format_message(), file=sys.stderr)
            error_line(f"missing command (see '{command_name(getattr(exc, 'ctx', None))} --help')")
        else:
            error_line(usage_message(exc))
        return USER_ERROR
    if isinstance(exc, OSError) and not (isinstance(exc, BrokenPipeError)):
        error_line(os_message(exc))
        return USER_ERROR
    if isinstance(exc, BrokenPipeError):
        return 1
    message = environment_message(exc)
    if message:
        error_line(message)
        return USER_ERROR
    error_line(f"internal error ({type(exc).__name__}: {one_line(exc)[:300]}); full log: {write_log(exc)}")
    return 1


def quiet_signals() -> None:
    """A file size limit (ulimit -f) gives EFBIG, reported as one line, instead of killing the process."""
    import signal

    if hasattr(signal, "SIGXFSZ"):
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        except (OSError, ValueError):  # not in the main thread
            pass
