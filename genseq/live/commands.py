"""What `genseq live` and `genseq stream music` do, from their options models to a running loop:
the CLI only builds the options and reports the exit code."""

from __future__ import annotations

from typing import Callable

import mido
import torch

from genseq.core.options import LiveMusicOptions, LiveOptions, StreamDanceOptions, StreamMusicOptions
from genseq.live.clock import SystemClock
from genseq.live.engine import CallAndResponse, EngineSettings
from genseq.live.player import NotePlayer
from genseq.live.ports import SYNTH, PortGone, PortWatch, guarded_send, list_ports, open_port
from genseq.live.runner import run_live
from genseq.live.session import StepSession, load_music_model
from genseq.live.status import StatusLine

Say = Callable[[str], None]


def engine_settings(options: LiveOptions) -> EngineSettings:
    return EngineSettings(tempo=options.tempo, gap_ms=options.gap_ms, min_notes=options.min_notes,
                          max_bars=options.max_bars, channel=options.channel - 1, thru=options.thru,
                          temperature_cc=options.temperature_cc, tempo_cc=options.tempo_cc, panic_cc=options.panic_cc)


def print_ports(say: Say) -> int:
    inputs, outputs = list_ports()
    say("MIDI inputs: " + (", ".join(repr(name) for name in inputs) or "none"))
    say("MIDI outputs: " + (", ".join(repr(name) for name in outputs) or "none") + f"; also {SYNTH!r} (FluidSynth)")
    return 0


def start_session(options: LiveMusicOptions) -> StepSession:
    torch.set_num_threads(1)  # batch 1: one thread is fastest, and leaves the other cores alone
    return StepSession(load_music_model(options.checkpoint, options.representation), options)  # they are SamplingOptions


def open_output(options: LiveMusicOptions, clock):
    """The output port and a player on it (program change sent first when asked)."""
    outport = open_port(options.out_port, True, "--out-port", clock)
    player = NotePlayer(guarded_send(outport))
    if options.program is not None:
        player.send(mido.Message("program_change", channel=options.channel - 1, program=options.program))
    return outport, player


def live(options: LiveOptions, say: Say, clock=None) -> int:
    if options.list_ports and not options.web:
        return print_ports(say)
    clock = clock or SystemClock()
    session = start_session(options)
    if options.web:
        return live_in_browser(options, session, say, clock)
    inport = open_port(options.in_port, False, "--in-port", clock)
    try:
        outport, player = open_output(options, clock)
    except BaseException:
        inport.close()
        raise
    try:
        say(f"genseq live: play into {inport.name!r}, answers on {outport.name!r} "
            f"({session.encoding.name} model); Ctrl-C stops")
        named = [port for port, name in ((inport, options.in_port), (outport, options.out_port)) if name not in (None, SYNTH)]
        status = StatusLine()
        engine = answer_calls(options, session, inport, player, clock, status, PortWatch(named, clock), say)
    finally:
        close_quietly(inport, outport)
    return 0


def answer_calls(options: LiveOptions, session, inport, player, clock, status, watch, say: Say) -> CallAndResponse:
    """Run the engine until it stops; on the system clock with real-time scheduling where permitted."""
    from genseq.live.priority import realtime_scheduling

    engine = CallAndResponse(session, player, clock, engine_settings(options), log=status.say)
    stop_at = None if options.seconds is None else clock.now() + options.seconds
    with realtime_scheduling(isinstance(clock, SystemClock)) as scheduling:
        if scheduling:
            say(scheduling)
        ending = run_live(engine, inport, clock, stop_at, status, watch)
    say(f"{ending.reason}: {ending.released} sounding notes released; {len(engine.answers)} answers")
    return engine


def live_in_browser(options: LiveOptions, session, say: Say, clock) -> int:
    """The engine behind the local page: keys come in over its WebSocket, the answer goes out on it."""
    from genseq.live.web import PageOutput, PageStatus, WebServer

    server = WebServer(options.web_port)
    try:
        player = NotePlayer(PageOutput("page", clients=server.clients).send)
        say(f"genseq live: open {server.url} in a browser ({session.encoding.name} model); Ctrl-C stops")
        answer_calls(options, session, server.inport, player, clock, PageStatus(StatusLine(), server.clients), None, say)
    finally:
        server.close()
    return 0


def stream(options: StreamMusicOptions, say: Say, clock=None) -> int:
    from genseq.core.errors import GenseqError
    from genseq.live.priority import realtime_scheduling
    from genseq.live.stream import stream_music

    if options.list_ports:
        return print_ports(say)
    clock = clock or SystemClock()
    session = start_session(options)
    outport, player = open_output(options, clock)
    say(f"genseq stream music: new {session.encoding.name} music on {outport.name!r} at {options.tempo:g} qpm; "
        + ("Ctrl-C stops" if options.seconds is None else f"{options.seconds:g} s"))
    try:
        with realtime_scheduling(isinstance(clock, SystemClock)) as scheduling:
            if scheduling:
                say(scheduling)
            steps = stream_music(session, player, clock, options.tempo, options.seconds, options.channel - 1,
                                 options.velocity)
        say(f"stopped after {steps} steps; every note released")
    except KeyboardInterrupt:
        say("interrupted: every note released")
    except PortGone as gone:
        raise GenseqError(f"MIDI port {gone.reason}; stopped", gone.name) from None
    finally:
        close_quietly(outport)
    return 0


def stream_dance(options: StreamDanceOptions, say: Say, clock=None) -> int:
    from genseq.core.errors import GenseqError
    from genseq.live.dance_stream import DanceSession, dance_frames, load_dance_model
    from genseq.live.priority import realtime_scheduling
    from genseq.live.video_out import MjpegServer, MpegTsOutput, play_frames

    if not (options.web or options.mpegts):
        raise GenseqError("nowhere to show the dance: keep --web or add --mpegts", "--no-web")
    torch.set_num_threads(1)
    clock = clock or SystemClock()
    loaded = load_dance_model(options.checkpoint)
    session = DanceSession(loaded, options)  # StreamDanceOptions are SamplingOptions
    outputs = []
    try:
        if options.web:
            outputs.append(MjpegServer(options.web_port))
            say(f"genseq stream dance: open {outputs[-1].url} (a browser, or a streaming tool's browser source)")
        if options.mpegts:
            outputs.append(MpegTsOutput(options.size, session.encoding.fps))
        say(f"{session.encoding.fps:g} frames a second, {options.size}x{options.size}; "
            + ("Ctrl-C stops" if options.seconds is None else f"{options.seconds:g} s"))
        try:
            with realtime_scheduling(isinstance(clock, SystemClock)) as scheduling:
                if scheduling:
                    say(scheduling)
                stats = play_frames(dance_frames(session, options.size), outputs, clock, session.encoding.fps,
                                    options.seconds)
            say(f"stopped after {stats.frames} frames, {stats.dropped} dropped")
        except KeyboardInterrupt:
            say("interrupted")
    finally:
        close_quietly(*outputs)
    return 0


def close_quietly(*ports) -> None:
    for port in ports:
        try:
            port.close()
        except Exception:  # a port that is gone closes as it can
            pass
