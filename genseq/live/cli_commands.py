"""`genseq live` and `genseq stream music`: thin commands over genseq.live.commands, registered on
the CLI's app by genseq/cli.py (nothing in genseq imports the CLI). Every flag is a field of the
command's options model (`field` is the CLI's helper that makes one)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from genseq.core import options as opts


def say(message: str) -> None:
    typer.echo(message, err=True)


def as_text(path: Optional[Path]) -> Optional[str]:
    return None if path is None else str(path)


def stop_on_termination() -> None:
    """SIGTERM and SIGHUP stop like Ctrl-C does, so every sounding note still gets its note-off."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)


def register(app: typer.Typer, field) -> None:
    stream_app = typer.Typer(no_args_is_help=True, help="Play new music without end, in real time.")
    app.add_typer(stream_app, name="stream")
    M = opts.LiveOptions

    @app.command("live")
    def live_cmd(
        in_port: Optional[str] = field(M, "in_port"), out_port: Optional[str] = field(M, "out_port"),
        list_ports: bool = field(M, "list_ports"), checkpoint: Optional[Path] = field(M, "checkpoint"),
        representation: str = field(M, "representation"), tempo: Optional[float] = field(M, "tempo"),
        gap_ms: Optional[float] = field(M, "gap_ms"), min_notes: int = field(M, "min_notes"),
        max_bars: int = field(M, "max_bars"), temperature: float = field(M, "temperature"),
        top_k: Optional[int] = field(M, "top_k"), top_p: Optional[float] = field(M, "top_p"), seed: int = field(M, "seed"),
        channel: int = field(M, "channel"), program: Optional[int] = field(M, "program"), thru: bool = field(M, "thru"),
        temperature_cc: int = field(M, "temperature_cc"), tempo_cc: int = field(M, "tempo_cc"),
        panic_cc: int = field(M, "panic_cc"), seconds: Optional[float] = field(M, "seconds"),
        web: bool = field(M, "web"), web_port: int = field(M, "web_port"),
    ) -> None:
        """Call and response: play a phrase (MIDI keyboard, or the browser with --web); the answer starts on a bar line."""
        from genseq.live.commands import live

        options = opts.LiveOptions.build(
            in_port=in_port, out_port=out_port, list_ports=list_ports, checkpoint=as_text(checkpoint),
            representation=representation, tempo=tempo, gap_ms=gap_ms, min_notes=min_notes, max_bars=max_bars,
            temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, channel=channel, program=program, thru=thru,
            temperature_cc=temperature_cc, tempo_cc=tempo_cc, panic_cc=panic_cc, seconds=seconds, web=web,
            web_port=web_port)
        stop_on_termination()
        raise typer.Exit(live(options, say))

    S = opts.StreamMusicOptions

    @stream_app.command("music")
    def stream_music_cmd(
        out_port: Optional[str] = field(S, "out_port"), list_ports: bool = field(S, "list_ports"),
        checkpoint: Optional[Path] = field(S, "checkpoint"), representation: str = field(S, "representation"),
        tempo: float = field(S, "tempo"), temperature: float = field(S, "temperature"),
        top_k: Optional[int] = field(S, "top_k"), top_p: Optional[float] = field(S, "top_p"), seed: int = field(S, "seed"),
        channel: int = field(S, "channel"), program: Optional[int] = field(S, "program"),
        velocity: int = field(S, "velocity"), seconds: Optional[float] = field(S, "seconds"),
    ) -> None:
        """New melodies or piano rolls without end to a MIDI port (or the machine's sound), in constant memory."""
        from genseq.live.commands import stream

        options = opts.StreamMusicOptions.build(
            out_port=out_port, list_ports=list_ports, checkpoint=as_text(checkpoint), representation=representation,
            tempo=tempo, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, channel=channel,
            program=program, velocity=velocity, seconds=seconds)
        stop_on_termination()
        raise typer.Exit(stream(options, say))

    D = opts.StreamDanceOptions

    @stream_app.command("dance")
    def stream_dance_cmd(
        checkpoint: Optional[Path] = field(D, "checkpoint"), size: int = field(D, "size"), web: bool = field(D, "web"),
        web_port: int = field(D, "web_port"), mpegts: bool = field(D, "mpegts"), seconds: Optional[float] = field(D, "seconds"),
        temperature: float = field(D, "temperature"), top_k: Optional[int] = field(D, "top_k"),
        top_p: Optional[float] = field(D, "top_p"), seed: int = field(D, "seed"),
    ) -> None:
        """An endless dance, live: a local page (MJPEG, for a browser or a streaming tool) and/or MPEG-TS on stdout."""
        from genseq.live.commands import stream_dance

        options = opts.StreamDanceOptions.build(checkpoint=as_text(checkpoint), size=size, web=web, web_port=web_port,
                                                mpegts=mpegts, seconds=seconds, temperature=temperature, top_k=top_k,
                                                top_p=top_p, seed=seed)
        stop_on_termination()
        raise typer.Exit(stream_dance(options, say))
