"""A real local Prefect server for genseq: its settings, its process, and how to find it.

The server keeps its database under the genseq data folder (``$GENSEQ_HOME``, default
``~/.genseq``): SQLite at ``<home>/prefect/prefect.db`` unless a PostgreSQL URL is given.
It listens on 127.0.0.1 only. ``<home>/server.json`` records the API and UI addresses of the
running server so that ``genseq serve`` and ``genseq batch --prefect`` find it without flags.

Settings that matter (../shared/STACK.md): PREFECT_HOME, PREFECT_SERVER_API_HOST and
PREFECT_SERVER_API_PORT (the --port flag alone leaves the UI talking to port 4200), and
PREFECT_SERVER_ANALYTICS_ENABLED=false (no internet here, and no reason to phone home).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from genseq.core.atomic import atomic_write_text, ensure_writable_dir
from genseq.core.errors import GenseqError
from genseq.service.workers import die_with_parent

HOST = "127.0.0.1"
DEFAULT_PORT = 4200
START_TIMEOUT_S = 120.0  # 12-14 s on a fresh SQLite database here, much more on a busy machine


def genseq_home() -> Path:
    """The genseq data folder: $GENSEQ_HOME, else ~/.genseq."""
    return Path(os.environ.get("GENSEQ_HOME") or Path.home() / ".genseq").expanduser()


def database_url(database: str | None, prefect_home: Path) -> str:
    """SQLAlchemy async URL of the server's database.

    None: SQLite under prefect_home. postgresql://... (or postgres://) is turned into the
    asyncpg form Prefect needs; postgresql+asyncpg://... and sqlite+aiosqlite://... pass as is.
    """
    if not database:
        return f"sqlite+aiosqlite:///{prefect_home / 'prefect.db'}"
    for prefix in ("postgresql://", "postgres://"):
        if database.startswith(prefix):
            return "postgresql+asyncpg://" + database[len(prefix):]
    if database.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return database
    raise GenseqError(f"database must be a PostgreSQL URL (postgresql://user:password@host:5432/name), got '{redact(database)}'")


def redact(url: str) -> str:
    """The URL with any password replaced by ***, for messages."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, location = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{location}" if ":" in credentials else url


@dataclass
class ServerSettings:
    port: int = DEFAULT_PORT
    prefect_home: Path | None = None   # default: <genseq home>/prefect
    database: str | None = None        # default: SQLite in prefect_home
    host: str = HOST

    @property
    def home(self) -> Path:
        return Path(self.prefect_home) if self.prefect_home is not None else genseq_home() / "prefect"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The environment variables the server process needs (added to os.environ)."""
        return {
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_API_HOST": self.host,
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_UI_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_DATABASE_CONNECTION_URL": database_url(self.database, self.home),
        }


def client_env(api_url: str, prefect_home: Path | None = None) -> dict[str, str]:
    """What a process that talks to the server (serve, batch) needs."""
    env = {"PREFECT_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    if prefect_home is not None:
        env["PREFECT_HOME"] = str(prefect_home)
    return env


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT leftovers do not count
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def is_healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def prefect_command() -> list[str]:
    """Prefect's CLI in this interpreter (no reliance on PATH)."""
    return [sys.executable, "-m", "prefect"]


class PrefectServer:
    """A `prefect server start` child process in its own process group.

    Use as a context manager (stopped whatever happens) or call start()/stop(). Its output
    goes to <prefect home>/server.log.
    """

    def __init__(self, settings: ServerSettings, log_path: Path | None = None):
        self.settings = settings
        self.log_path = log_path or settings.home / "server.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = START_TIMEOUT_S) -> "PrefectServer":
        settings = self.settings
        if not port_is_free(settings.port, settings.host):
            if is_healthy(settings.api_url):
                raise GenseqError(f"a Prefect server is already running at {settings.ui_url}")
            raise GenseqError(f"port {settings.port} on {settings.host} is in use; pick another with --port")
        ensure_writable_dir(settings.home)
        env = {**os.environ, **settings.env()}
        command = [*prefect_command(), "server", "start", "--host", settings.host, "--port", str(settings.port),
                   "--analytics-off"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True,
                                            preexec_fn=stop_with_parent if sys.platform == "linux" else None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_tail()
                self.process = None
                raise GenseqError(f"the Prefect server exited at start; last lines of {self.log_path}:\n{tail}")
            if is_healthy(settings.api_url):
                return self
            time.sleep(0.5)
        self.stop()
        raise GenseqError(f"the Prefect server did not answer within {timeout:.0f} s (see {self.log_path})")

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left after `grace` seconds."""
        if self.process is None:
            return
        stop_process_group(self.process, grace)
        self.process = None

    def wait(self) -> int:
        return self.process.wait() if self.process is not None else 0

    def __enter__(self) -> "PrefectServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started it dies, even by SIGKILL, so a
    killed `genseq server` never leaves its Prefect server behind (it has its own session)."""
    die_with_parent(sig=signal.SIGTERM)


def stop_process_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a child started with start_new_session=True and everything it started."""
    try:
        pgid = os.getpgid(process.pid)
    except ProcessLookupError:
        pgid = None
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if pgid is not None:
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                pass
        elif process.poll() is None:
            process.send_signal(sig)
        try:
            process.wait(timeout=wait)
            if pgid is not None and sig == signal.SIGTERM:
                try:  # the leader is gone; make sure its children are too
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return
        except subprocess.TimeoutExpired:
            continue


# ---------------------------------------------------------------------------------------------
# Where the running server is (for `genseq serve` and `genseq batch --prefect`)


def server_record_path() -> Path:
    return genseq_home() / "server.json"


def write_server_record(settings: ServerSettings, pid: int) -> Path:
    record = {"api_url": settings.api_url, "ui_url": settings.ui_url, "prefect_home": str(settings.home), "pid": pid}
    return atomic_write_text(server_record_path(), json.dumps(record, indent=1))


def remove_server_record(pid: int) -> None:
    path = server_record_path()
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def server_record() -> dict:
    try:
        return json.loads(server_record_path().read_text())
    except (OSError, ValueError):
        return {}


def find_api_url(explicit: str | None = None) -> str:
    """The API to talk to: the given URL, else $PREFECT_API_URL, else the server `genseq server` started."""
    if explicit:
        return explicit.rstrip("/")
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"].rstrip("/")
    try:
        record = json.loads(server_record_path().read_text())
        return record["api_url"]
    except (OSError, ValueError, KeyError):
        pass
    raise GenseqError("no Prefect server to talk to: start one with `genseq server` (or set PREFECT_API_URL, or pass --api-url)")
