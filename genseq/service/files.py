"""Files for the service layer: content hashes, output paths that stay inside a root, and a
read-only HTTP server for rendered media (so the Prefect UI can link to and play them).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import threading
import urllib.parse
from pathlib import Path
from typing import Iterable

from genseq.core.errors import GenseqError

CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes. A file is read once per version (path, inode, size and times), so
    an input many jobs or tasks share, such as a checkpoint, is not hashed again for each."""
    info = os.stat(path)
    return _sha256_of_version(str(Path(path).resolve()), info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@functools.lru_cache(maxsize=4096)
def _sha256_of_version(path: str, inode: int, size: int, mtime_ns: int, ctime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def files_under(path: Path) -> list[Path]:
    """Regular files under a folder (recursively, hidden files and folders skipped), sorted."""
    found = []
    for root, folders, names in os.walk(path):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        found += [Path(root) / n for n in sorted(names) if not n.startswith(".")]
    return [f for f in found if f.is_file()]


def content_digest(paths: Iterable[str | Path | None]) -> str:
    """One SHA-256 over the contents of files and folders (each file under a folder with its
    relative name), in the order given. A missing path counts as 'missing' (the stage then
    fails with its own message, and a later run with the file present gets a new digest)."""
    digest = hashlib.sha256()
    for item in paths:
        if item is None:
            digest.update(b"none\0")
            continue
        path = Path(item)
        if path.is_dir():
            digest.update(b"dir\0")
            for file in files_under(path):
                digest.update(f"{file.relative_to(path).as_posix()}\0{sha256_file(file)}\0".encode())
        elif path.is_file():
            digest.update(f"file\0{sha256_file(path)}\0".encode())
        else:
            digest.update(f"missing\0{path}\0".encode())
    return digest.hexdigest()


def stable_digest(value) -> str:
    """SHA-256 of a JSON-able value (keys sorted; paths as strings)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def control_character(text: str) -> str:
    """The first control character (NUL, newline, escape ...) in text, spelled as an escape ('\\x00'); '' if none."""
    found = next((c for c in text if ord(c) < 32 or 127 <= ord(c) < 160), "")
    return repr(found)[1:-1] if found else ""


def inside_root(root: str | Path, relative: str | Path, what: str = "output") -> Path:
    """root/relative, resolved, after checking it cannot land outside root.

    Rejected: absolute paths, '~', any '..' component, control characters, and paths that
    resolve (through symlinks already on disk) to somewhere outside the resolved root.
    """
    text = str(relative).strip()
    if not text:
        raise GenseqError(f"{what} path is empty")
    if control_character(text):
        raise GenseqError(f"{what} path contains a control character ({control_character(text)})", repr(text)[1:-1])
    candidate = Path(text)
    if candidate.is_absolute() or text.startswith("~"):
        raise GenseqError(f"{what} path must be relative to the output root, got an absolute path", text)
    if ".." in candidate.parts:
        raise GenseqError(f"{what} path must not contain '..'", text)
    base = Path(root).resolve()
    target = (base / candidate).resolve()
    if target != base and base not in target.parents:
        raise GenseqError(f"{what} path escapes the output root {base} (through a symlink)", text)
    if target == base:
        raise GenseqError(f"{what} path must name something inside the output root, not the root itself", text)
    return target


# ---------------------------------------------------------------------------------------------
# Media file server


MEDIA_TYPES = {".mid": "audio/midi", ".midi": "audio/midi", ".wav": "audio/wav", ".png": "image/png",
               ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".mp4": "video/mp4",
               ".mov": "video/quicktime", ".npz": "application/octet-stream", ".json": "application/json",
               ".csv": "text/csv"}


class MediaHandler(http.server.BaseHTTPRequestHandler):
    """GET/HEAD of media files under the root: no listings, no other suffixes, no escapes, Range supported."""

    root: Path = Path(".")
    server_version = "genseq-files"

    def log_message(self, format, *args) -> None:  # quiet
        pass

    def target(self) -> Path | None:
        relative = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        try:
            path = inside_root(self.root, relative)
        except GenseqError:
            return None
        if path.suffix.lower() not in MEDIA_TYPES or not path.is_file():
            return None
        return path

    def do_HEAD(self) -> None:
        self.respond(body=False)

    def do_GET(self) -> None:
        self.respond(body=True)

    def respond(self, body: bool) -> None:
        path = self.target()
        if path is None:
            self.send_error(404, "not found")
            return
        size = path.stat().st_size
        start, end = 0, size - 1
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes=") and size:
            first, _, last = ranged[6:].split(",")[0].partition("-")
            try:
                if first:
                    start, end = int(first), min(int(last), size - 1) if last else size - 1
                else:
                    start, end = max(0, size - int(last)), size - 1
            except ValueError:
                start, end = 0, size - 1
            if start > end:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", MEDIA_TYPES[path.suffix.lower()])
        self.send_header("Content-Length", str(max(0, end - start + 1)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if body and size:
            with open(path, "rb") as handle:
                handle.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = handle.read(min(CHUNK, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)


class MediaFileServer:
    """Serve media files under `root` read-only on host:port in a daemon thread."""

    def __init__(self, root: str | Path, port: int = 0, host: str = "127.0.0.1"):
        handler = type("BoundMediaHandler", (MediaHandler,), {"root": Path(root).resolve()})
        self.httpd = http.server.ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.root = Path(root).resolve()
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="genseq-files", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> "MediaFileServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def file_url(path: str | Path, root: str | Path | None = None, base_url: str | None = None) -> str:
    """A link to a file: under the media server when the file is inside its root, else file://.

    root and base_url default to $GENSEQ_FILES_ROOT and $GENSEQ_FILES_URL (set by `genseq serve`).
    """
    path = Path(path).resolve()
    root = root or os.environ.get("GENSEQ_FILES_ROOT")
    base_url = base_url or os.environ.get("GENSEQ_FILES_URL")
    if root and base_url:
        root = Path(root).resolve()
        if root in path.parents:
            return base_url.rstrip("/") + "/" + urllib.parse.quote(path.relative_to(root).as_posix())
    return path.as_uri()
