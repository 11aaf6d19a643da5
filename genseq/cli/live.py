"""`genseq live`, `genseq stream music` and `genseq stream dance`: thin commands over genseq.live.commands
(real-time play, not files). Every flag is a field of the command's options model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from genseq.cli.app import app, as_text, on_termination, option_for, say, stream_app
from genseq.core.options import LiveOptions, StreamDanceOptions, StreamMusicOptions


def stop_like_ctrl_c() -> None:
    """SIGTERM and SIGHUP stop like Ctrl-C does, so every sounding note still gets its note-off."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    on_termination(stop)


@app.command("live")
def live_cmd(
    in_port: Optional[str] = option_for(LiveOptions, "in_port"),
    out_port: Optional[str] = option_for(LiveOptions, "out_port"),
    list_ports: bool = option_for(LiveOptions, "list_ports"),
    checkpoint: Optional[Path] = option_for(LiveOptions, "checkpoint"),
    representation: str = option_for(LiveOptions, "representation"),
    tempo: Optional[float] = option_for(LiveOptions, "tempo"),
    gap_ms: Optional[float] = option_for(LiveOptions, "gap_ms"), min_notes: int = option_for(LiveOptions, "min_notes"),
    max_bars: int = option_for(LiveOptions, "max_bars"), temperature: float = option_for(LiveOptions, "temperature"),
    top_k: Optional[int] = option_for(LiveOptions, "top_k"),
    top_p: Optional[float] = option_for(LiveOptions, "top_p"), seed: int = option_for(LiveOptions, "seed"),
    channel: int = option_for(LiveOptions, "channel"), program: Optional[int] = option_for(LiveOptions, "program"),
    thru: bool = option_for(LiveOptions, "thru"),
    temperature_cc: int = option_for(LiveOptions, "temperature_cc"),
    tempo_cc: int = option_for(LiveOptions, "tempo_cc"),
    panic_cc: int = option_for(LiveOptions, "panic_cc"), seconds: Optional[float] = option_for(LiveOptions, "seconds"),
    web: bool = option_for(LiveOptions, "web"), web_port: int = option_for(LiveOptions, "web_port"),
) -> None:
    """Call and response: play a phrase (MIDI keyboard, or the browser with --web); the answer starts on a bar line."""
    from genseq.live.commands import live

    options = LiveOptions.build(
        in_port=in_port, out_port=out_port, list_ports=list_ports, checkpoint=as_text(checkpoint),
        representation=representation, tempo=tempo, gap_ms=gap_ms, min_notes=min_notes, max_bars=max_bars,
        temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, channel=channel, program=program, thru=thru,
        temperature_cc=temperature_cc, tempo_cc=tempo_cc, panic_cc=panic_cc, seconds=seconds, web=web,
        web_port=web_port)
    stop_like_ctrl_c()
    raise typer.Exit(live(options, say))

@stream_app.command("music")
def stream_music_cmd(
    out_port: Optional[str] = option_for(StreamMusicOptions, "out_port"),
    list_ports: bool = option_for(StreamMusicOptions, "list_ports"),
    checkpoint: Optional[Path] = option_for(StreamMusicOptions, "checkpoint"),
    representation: str = option_for(StreamMusicOptions, "representation"),
    tempo: float = option_for(StreamMusicOptions, "tempo"),
    temperature: float = option_for(StreamMusicOptions, "temperature"),
    top_k: Optional[int] = option_for(StreamMusicOptions, "top_k"),
    top_p: Optional[float] = option_for(StreamMusicOptions, "top_p"),
    seed: int = option_for(StreamMusicOptions, "seed"),
    channel: int = option_for(StreamMusicOptions, "channel"),
    program: Optional[int] = option_for(StreamMusicOptions, "program"),
    velocity: int = option_for(StreamMusicOptions, "velocity"),
    seconds: Optional[float] = option_for(StreamMusicOptions, "seconds"),
) -> None:
    """New melodies or piano rolls without end to a MIDI port (or the machine's sound), in constant memory."""
    from genseq.live.commands import stream

    options = StreamMusicOptions.build(
        out_port=out_port, list_ports=list_ports, checkpoint=as_text(checkpoint), representation=representation,
        tempo=tempo, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, channel=channel,
        program=program, velocity=velocity, seconds=seconds)
    stop_like_ctrl_c()
    raise typer.Exit(stream(options, say))

@stream_app.command("dance")
def stream_dance_cmd(
    checkpoint: Optional[Path] = option_for(StreamDanceOptions, "checkpoint"),
    size: int = option_for(StreamDanceOptions, "size"), web: bool = option_for(StreamDanceOptions, "web"),
    web_port: int = option_for(StreamDanceOptions, "web_port"),
    mpegts: bool = option_for(StreamDanceOptions, "mpegts"),
    seconds: Optional[float] = option_for(StreamDanceOptions, "seconds"),
    temperature: float = option_for(StreamDanceOptions, "temperature"),
    top_k: Optional[int] = option_for(StreamDanceOptions, "top_k"),
    top_p: Optional[float] = option_for(StreamDanceOptions, "top_p"),
    seed: int = option_for(StreamDanceOptions, "seed"),
) -> None:
    """An endless dance, live: a local page (MJPEG, for a browser or a streaming tool) and/or MPEG-TS on stdout."""
    from genseq.live.commands import stream_dance

    options = StreamDanceOptions.build(checkpoint=as_text(checkpoint), size=size, web=web, web_port=web_port,
                                            mpegts=mpegts, seconds=seconds, temperature=temperature, top_k=top_k,
                                            top_p=top_p, seed=seed)
    stop_like_ctrl_c()
    raise typer.Exit(stream_dance(options, say))
