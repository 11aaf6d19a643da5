"""MIDI ports through mido: a named port, or a virtual one (genseq-in, genseq-out) where the MIDI
system allows it (ALSA or JACK through python-rtmidi; not Windows), and the FluidSynth synthesiser
as an output. A port that fails or disappears mid-session raises PortGone, which the loop turns into
one line and a clean exit after releasing every note it can."""

from __future__ import annotations

import contextlib
import os
import sys

import mido

from genseq.core.errors import GenseqError

VIRTUAL_IN, VIRTUAL_OUT, SYNTH = "genseq-in", "genseq-out", "synth"
WATCH_EVERY_S = 1.0


@contextlib.contextmanager
def quiet_native_stderr():
    """Drop what ALSA, JACK and FluidSynth print on file descriptor 2 while probing for ports and
    audio devices (lines such as "ALSA lib seq_hw.c: ... failed"): the problem is reported once,
    in genseq's own words. Wrap short native calls only: the whole process's fd 2 is redirected."""
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class PortGone(Exception):
    def __init__(self, name: str, reason: str = "disappeared"):
        self.name, self.reason = name, reason
        super().__init__(f"MIDI port {name!r} {reason}")


def midi_system_problem() -> str | None:
    """Why no MIDI port can be listed or opened here, or None when the MIDI system works."""
    try:
        import rtmidi  # noqa: F401
    except ImportError:
        return "python-rtmidi is not installed (pip install python-rtmidi)"
    try:
        with quiet_native_stderr():
            mido.get_input_names()
    except Exception as exc:  # rtmidi raises its own SystemError classes
        return f"no MIDI system on this machine ({type(exc).__name__}: {exc}); an ALSA or JACK MIDI system is needed"
    return None


def list_ports() -> tuple[list[str], list[str]]:
    problem = midi_system_problem()
    if problem:
        raise GenseqError(problem, "--list-ports")
    with quiet_native_stderr():
        return mido.get_input_names(), mido.get_output_names()


def open_port(name: str | None, output: bool, option: str, clock=None):
    """The named port (an exact name, else the one name it starts a listing with), or a virtual
    port when none is named; the FluidSynth synthesiser for an output named "synth"."""
    if output and name == SYNTH:
        from genseq.live.synth import SynthOutput

        return SynthOutput()
    problem = midi_system_problem()
    if problem:
        hint = "--out-port synth plays on this machine's sound" if output else "genseq live --web plays in the browser"
        raise GenseqError(f"{problem}; {hint}", option)
    opener = mido.open_output if output else mido.open_input
    try:
        with quiet_native_stderr():
            if name is None:
                return opener(VIRTUAL_OUT if output else VIRTUAL_IN, virtual=True)
            return opener(resolve_name(name, mido.get_output_names() if output else mido.get_input_names(), option))
    except (OSError, IOError, RuntimeError, NotImplementedError) as exc:
        what = "a virtual port" if name is None else "the port"
        raise GenseqError(f"cannot open {what} ({exc}); name one with {option} (see --list-ports)", name or option) from None


def resolve_name(name: str, names: list[str], option: str) -> str:
    if name in names:
        return name
    starting = [known for known in names if known.startswith(name)]
    if len(starting) == 1:
        return starting[0]
    listing = ", ".join(repr(known) for known in names) or "none"
    raise GenseqError(f"no such MIDI port (ports: {listing})", name)


class PortWatch:
    """Checks now and then that named ports are still listed (an unplugged device's port goes quiet
    rather than failing), and raises PortGone when one is not."""

    def __init__(self, ports, clock, listed=None):
        self.ports = [port for port in ports if port is not None]  # the ports opened by name
        self.clock, self.next_check = clock, clock.now() + WATCH_EVERY_S
        self.listed = listed or listed_names

    def check(self) -> None:
        if not self.ports or self.clock.now() < self.next_check:
            return
        self.next_check = self.clock.now() + WATCH_EVERY_S
        for port in self.ports:
            if port.name not in self.listed(port.is_output):
                raise PortGone(port.name)


def listed_names(output: bool) -> list[str]:
    try:
        with quiet_native_stderr():
            return mido.get_output_names() if output else mido.get_input_names()
    except Exception:  # the MIDI system itself went away
        return []


def receive_pending(port) -> list:
    try:
        return list(port.iter_pending())
    except (OSError, IOError, RuntimeError) as exc:
        raise PortGone(port.name, f"failed ({exc})") from None


def guarded_send(port):
    def send(message) -> None:
        try:
            port.send(message)
        except (OSError, IOError, RuntimeError, ValueError) as exc:
            raise PortGone(port.name, f"failed ({exc})") from None

    return send
