"""`genseq server`, `genseq serve` and `genseq batch`: thin commands over genseq.service (operations, not media).

`serve` starts the flows' serving in a subprocess (`python -m flows.serve`): nothing in
genseq/ imports flows/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

from genseq.cli.app import app, on_termination, say


def exit_on_termination() -> None:
    """SIGTERM and SIGHUP end the command through its `finally` (children stopped), like Ctrl-C does;
    SIGINT raises KeyboardInterrupt even when the shell started us with it ignored (background jobs)."""
    import signal

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    on_termination(stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)


@app.command("server")
def server_cmd(
    port: int = typer.Option(4200, min=1, max=65535, help="port on 127.0.0.1 for the API and the UI"),
    database: Optional[str] = typer.Option(None, envvar="GENSEQ_DATABASE_URL",
                                           help="PostgreSQL URL (postgresql://user:password@host:5432/name); "
                                                "default: SQLite under the genseq data folder"),
    home: Optional[Path] = typer.Option(None, help="Prefect's data folder (default: $GENSEQ_HOME/prefect, "
                                                   "$GENSEQ_HOME defaulting to ~/.genseq)"),
) -> None:
    """Start a local Prefect server with its UI on 127.0.0.1 and keep it running (Ctrl-C stops it)."""
    from genseq.service.server import PrefectServer, ServerSettings, redact, remove_server_record, write_server_record

    settings = ServerSettings(port=port, prefect_home=home, database=database)
    say(f"starting Prefect on {settings.ui_url} (data: {settings.home}"
        f"{', database ' + redact(database) if database else ''}; log: {settings.home / 'server.log'})")
    server = PrefectServer(settings)
    exit_on_termination()
    try:
        server.start()
        write_server_record(settings, os.getpid())
        say(f"Prefect UI: {settings.ui_url}   API: {settings.api_url}")
        say("next: `genseq serve` in another terminal registers genseq's deployments; Ctrl-C here stops the server")
        code = server.wait()
        if code:
            say(f"the Prefect server exited with code {code}; see {server.log_path}")
            sys.exit(1)
    finally:
        server.stop()
        remove_server_record(os.getpid())


@app.command("serve")
def serve_cmd(
    api_url: Optional[str] = typer.Option(None, help="Prefect API (default: $PREFECT_API_URL, else the server "
                                                     "`genseq server` started)"),
    files_port: int = typer.Option(0, min=0, max=65535, help="port for the read-only media file server the run "
                                                              "summaries link to (0: any free port)"),
    no_files: bool = typer.Option(False, "--no-files", help="no media file server (summaries link file:// paths)"),
    limit: Optional[int] = typer.Option(None, min=1, help="at most this many flow runs at once"),
) -> None:
    """Register deployments of every genseq flow and serve them (runs start from the UI or the API)."""
    from genseq.service.server import find_api_url, is_healthy, server_record

    url = find_api_url(api_url)
    if not is_healthy(url):
        from genseq.core.errors import GenseqError

        raise GenseqError(f"no Prefect server answers at {url}: start one with `genseq server`")
    command = [sys.executable, "-m", "flows.serve", "--files-port", str(files_port)]
    if no_files:
        command.append("--no-files")
    if limit:
        command += ["--limit", str(limit)]
    env = {**os.environ, "PREFECT_API_URL": url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    record = server_record()
    if "PREFECT_HOME" not in os.environ and record.get("api_url") == url:
        env["PREFECT_HOME"] = record["prefect_home"]  # cached task results stay in the genseq data folder
    say(f"serving genseq's flows against {url} (outputs are written under {Path.cwd()}); Ctrl-C stops")
    exit_on_termination()
    process = subprocess.Popen(command, env=env)
    try:
        code = process.wait()
    except KeyboardInterrupt:  # Ctrl-C reached the child too (same process group)
        stop_child(process, signalled=True)
        raise
    except SystemExit:  # SIGTERM/SIGHUP reached only us
        stop_child(process, signalled=False)
        raise
    if code:
        sys.exit(code)


def stop_child(process: subprocess.Popen, signalled: bool) -> None:
    """Give the serving process time to pause its deployments and leave: it got Ctrl-C too (signalled),
    or gets SIGTERM from here; kill it if it lingers."""
    steps = ((None, 10), ("terminate", 20), ("kill", 10)) if signalled else (("terminate", 20), ("kill", 10))
    for action, wait in steps:
        if process.poll() is not None:
            return
        if action:
            getattr(process, action)()
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


@app.command("batch")
def batch_cmd(
    manifest: Optional[Path] = typer.Argument(None, help="YAML or CSV manifest: one job per row (kind, checkpoint, primer, "
                                                         "parameters, output)"),
    songs: Optional[Path] = typer.Option(None, "--songs", help="instead of a manifest: a folder of songs (wav, mp3, flac, "
                                                               "ogg, m4a, MIDI), one music video each (song.mp4)"),
    parameters: Optional[str] = typer.Option(None, "--parameters", help="with --songs: key=value;... for every video "
                                                                        "(size=vertical;theme=neon;seconds=30)"),
    out: Path = typer.Option(Path("rendered"), "--out", help="output root: every row's output goes inside it"),
    workers: int = typer.Option(2, min=1, envvar="GENSEQ_BATCH_WORKERS", help="jobs at once"),
    runner: str = typer.Option("process", envvar="GENSEQ_BATCH_RUNNER",
                               help="process (worker processes sharing one queue) or thread"),
    report: Optional[Path] = typer.Option(None, help="also write the report as JSON here"),
    device: Optional[str] = typer.Option(None, help="torch device (default: the GPU when there is one)"),
) -> None:
    """Render many clips in parallel; bad rows fail alone, complete outputs are skipped, a report table ends the run."""
    import gc
    import json

    from genseq.core.atomic import atomic_write_text
    from genseq.service.scheduler import run_batch

    def progress(result) -> None:
        say(f"row {result.row}: {result.status}{' (' + result.reason + ')' if result.status == 'failed' else ''}")

    result = run_batch(batch_plan(manifest, songs, parameters, out), out, workers, runner, device, on_result=progress)
    typer.echo(result.table())
    if report is not None:
        atomic_write_text(report, json.dumps(result.to_json(), indent=1))
    gc.freeze()  # the command ends here: exit without collecting torch's ~200k objects one by one (0.5 s)
    if result.failed:
        sys.exit(1)  # not typer.Exit: genseq's main() runs click with standalone_mode=False, which drops it


def batch_plan(manifest: Optional[Path], songs: Optional[Path], parameters: Optional[str], out: Path):
    """The manifest, or the plan of a folder of songs (genseq/service/songs.py): one of the two."""
    from genseq.core.errors import GenseqError

    if (manifest is None) == (songs is None):
        raise GenseqError("give a manifest or --songs FOLDER (one of the two)")
    if songs is None:
        if parameters is not None:
            raise GenseqError("--parameters goes with --songs (a manifest's rows carry their own)")
        return manifest
    from genseq.service.songs import plan_songs

    return plan_songs(songs, out, parameters)
