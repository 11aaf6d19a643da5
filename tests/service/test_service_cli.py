"""`genseq server` and `genseq serve` as a user runs them: real processes, their settings, their shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from genseq.service.server import database_url, free_port, is_healthy, redact, stop_process_group
from tests.conftest import run_cli


def genseq(args: list[str], cwd: Path, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "genseq.cli", *args], cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def wait_until(check, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout} s" + (f":\n{log.read_text()[-3000:]}" if log else ""))


def get_json(url: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_database_urls():
    home = Path("/data/prefect")
    assert database_url(None, home) == "sqlite+aiosqlite:////data/prefect/prefect.db"
    assert database_url("postgresql://u:p@db:5432/prefect", home) == "postgresql+asyncpg://u:p@db:5432/prefect"
    assert database_url("postgres://u@db/prefect", home) == "postgresql+asyncpg://u@db/prefect"
    assert redact("postgresql://u:secret@db/prefect") == "postgresql://u:***@db/prefect"
    from genseq.core.errors import GenseqError

    with pytest.raises(GenseqError, match="PostgreSQL URL") as error:
        database_url("mysql://u:secret@db/x", home)
    assert "secret" not in str(error.value)


def test_serve_without_a_server_is_one_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENSEQ_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    code, _, err = run_cli(["serve"], capsys)
    assert code == 2 and err.strip().startswith("genseq: error: no Prefect server to talk to"), err
    code, _, err = run_cli(["serve", "--api-url", f"http://127.0.0.1:{free_port()}/api"], capsys)
    assert code == 2 and "no Prefect server answers" in err, err


def test_server_and_serve_commands(tmp_path):
    """genseq server: SQLite under $GENSEQ_HOME, UI wired to its port; genseq serve: every deployment
    registered from the record the server left; SIGINT (Ctrl-C) and SIGTERM stop them and their children."""
    home, work = tmp_path / "genseq-home", tmp_path / "work"
    work.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(GENSEQ_HOME=str(home), PREFECT_RUNNER_POLL_FREQUENCY="2")
    server = genseq(["server", "--port", str(port)], work, env, tmp_path / "server.log")
    serve = None
    try:
        api = f"http://127.0.0.1:{port}/api"
        wait_until(lambda: is_healthy(api) and (home / "server.json").exists(), 240, "server up", tmp_path / "server.log")
        assert (home / "prefect" / "prefect.db").exists()
        record = json.loads((home / "server.json").read_text())
        assert record["api_url"] == api
        assert get_json(f"http://127.0.0.1:{port}/ui-settings")["api_url"] == api  # the UI talks to this port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert b"<html" in response.read().lower()

        serve = genseq(["serve"], work, env, tmp_path / "serve.log")
        names = lambda: sorted(d["name"] for d in get_json(f"{api}/deployments/filter", {}))  # noqa: E731
        from flows.serve import FLOWS

        count = sum(len(flows) for flows in FLOWS.values())  # one deployment a flow
        wait_until(lambda: len(names()) == count and "polling" in (tmp_path / "serve.log").read_text(), 180,
                   f"{count} deployments", tmp_path / "serve.log")
        assert "music-pipeline" in names() and "batch-render" in names()
        assert "media files under" in (tmp_path / "serve.log").read_text()

        time.sleep(3)  # a person reads the table before pressing Ctrl-C (a SIGINT in Prefect's start-up skips the pause)
        os.killpg(serve.pid, signal.SIGINT)  # Ctrl-C in its terminal reaches the whole foreground group
        serve.wait(timeout=60)
        assert all(d["paused"] for d in get_json(f"{api}/deployments/filter", {}))

        server.send_signal(signal.SIGTERM)  # only the command: it must stop the Prefect server it started
        server.wait(timeout=60)
        wait_until(lambda: not is_healthy(api), 30, "server down")
        assert not (home / "server.json").exists()
    finally:
        for process in (serve, server):
            if process is not None:
                stop_process_group(process, grace=5)
        leftover = [p for p in psutil.process_iter(["cmdline"]) if f"--port {port}" in " ".join(p.info["cmdline"] or [])]
        for process in leftover:
            process.kill()
        assert not leftover, "the Prefect server outlived `genseq server`"


POSTGRES_URL = os.environ.get("GENSEQ_TEST_POSTGRES_URL")


@pytest.mark.skipif(not POSTGRES_URL, reason="no PostgreSQL to test against: set GENSEQ_TEST_POSTGRES_URL="
                                              "postgresql://user:password@127.0.0.1:5432/database (an empty database)")
def test_server_on_postgresql(tmp_path):
    """`genseq server --database postgresql://...` keeps Prefect's data in PostgreSQL, not SQLite."""
    from prefect import flow
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path / "genseq-home"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["GENSEQ_HOME"] = str(home)
    server = genseq(["server", "--port", str(port), "--database", POSTGRES_URL], tmp_path, env, tmp_path / "server.log")
    try:
        api = f"http://127.0.0.1:{port}/api"
        wait_until(lambda: is_healthy(api), 240, "server up", tmp_path / "server.log")
        assert not (home / "prefect" / "prefect.db").exists()
        said = (tmp_path / "server.log").read_text()
        assert "database postgresql" in said and ":***@" in said  # the password is not printed

        @flow(name="genseq-postgres-check")
        def check() -> int:
            return 42

        with temporary_settings(updates={PREFECT_API_URL: api}):
            assert check() == 42
            from prefect.logging.handlers import APILogWorker

            APILogWorker.drain_all(timeout=20)  # while the server is up
        runs = get_json(f"{api}/flow_runs/filter", {"flows": {"name": {"any_": ["genseq-postgres-check"]}}})
        assert runs and runs[0]["state_type"] == "COMPLETED"
    finally:
        stop_process_group(server, grace=10)
        leftover = [p for p in psutil.process_iter(["cmdline"]) if f"--port {port}" in " ".join(p.info["cmdline"] or [])]
        for process in leftover:
            process.kill()
        assert not leftover
