"""The terminal status line: state, tempo, temperature, and how early (or late) the last answer was
ready. On a terminal it is rewritten in place; elsewhere a line is printed when it changes."""

from __future__ import annotations

import sys


def describe(status: dict) -> str:
    parts = [status["state"], f"tempo {status['tempo']:g} qpm", f"temperature {status['temperature']:g}"]
    if status.get("margin_ms") is not None:
        margin = status["margin_ms"]
        when = f"{margin:.0f} ms before its bar line" if margin >= 0 else f"{-margin:.0f} ms late"
        parts.append(f"last answer ready {when}" + (" (pushed back)" if status.get("pushed_back") else ""))
    if "answers" in status:
        parts.append(f"{status['answers']} answers")
    return " | ".join(parts)


class StatusLine:
    def __init__(self, stream=None, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.shown = ""

    def update(self, status: dict) -> None:
        text = describe(status)
        if not self.enabled or text == self.shown:
            return
        self.shown = text
        self.stream.write(f"\r\x1b[2K{text}" if self.tty else f"{text}\n")
        self.stream.flush()

    def say(self, message: str) -> None:
        """A message of its own line (a warning, a tempo change) above the status line."""
        if not self.enabled:
            return
        self.stream.write(f"\r\x1b[2K{message}\n" if self.tty else f"{message}\n")
        if self.tty and self.shown:
            self.stream.write(self.shown)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()
