"""`genseq live --web`: the call-and-response engine behind a local page. One HTTP server on
127.0.0.1 serves the page (page.py: no external script, style or font) and one WebSocket, over
which the page's keys (on-screen, computer keyboard, Web MIDI) come in as note messages and the
answer's notes go out, as they are due, for the page to play with Web Audio and draw."""

from __future__ import annotations

import json
import threading

import mido
from mido.ports import BaseOutput

from genseq.core.errors import GenseqError
from genseq.live.memory_ports import MemoryInput
from genseq.live.page import PAGE

HOST = "127.0.0.1"


class Clients:
    """The open WebSockets; a message goes to each (a closed one is dropped)."""

    def __init__(self):
        self.connections, self.lock = set(), threading.Lock()

    def add(self, connection) -> None:
        with self.lock:
            self.connections.add(connection)

    def remove(self, connection) -> None:
        with self.lock:
            self.connections.discard(connection)

    def broadcast(self, payload: dict) -> None:
        text = json.dumps(payload)
        with self.lock:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.send(text)
            except Exception:  # noqa: BLE001 - a page that went away just stops listening
                self.remove(connection)


class PageOutput(BaseOutput):
    """The answer's notes as JSON to every open page."""

    def _open(self, clients: Clients = None, **kwargs):
        self.clients = clients

    def _send(self, message) -> None:
        if message.type in ("note_on", "note_off"):
            on = message.type == "note_on" and message.velocity > 0
            self.clients.broadcast({"type": "on" if on else "off", "note": message.note, "velocity": message.velocity})


def page_message(text: str) -> mido.Message | None:
    """A page's {"on": pitch, "velocity": v} / {"off": pitch} / {"cc": number, "value": v} as MIDI."""
    try:
        data = json.loads(text)
        if "on" in data:
            return mido.Message("note_on", note=int(data["on"]), velocity=int(data.get("velocity", 80)) or 1)
        if "off" in data:
            return mido.Message("note_off", note=int(data["off"]))
        if "cc" in data:
            return mido.Message("control_change", control=int(data["cc"]), value=int(data["value"]))
    except (ValueError, TypeError, KeyError):
        return None
    return None


class PageStatus:
    """The terminal status line, and the same state sent to the pages when it changes."""

    def __init__(self, line, clients: Clients):
        self.line, self.clients, self.last = line, clients, None

    def update(self, status: dict) -> None:
        self.line.update(status)
        if status != self.last:
            self.last = dict(status)
            self.clients.broadcast({"type": "status", **status})

    def say(self, message: str) -> None:
        self.line.say(message)
        self.clients.broadcast({"type": "log", "text": message})

    def close(self) -> None:
        self.line.close()


class WebServer:
    """The page and its WebSocket on 127.0.0.1:port (0: any free port), in a thread of its own."""

    def __init__(self, port: int):
        from websockets.sync.server import serve

        self.clients, self.inport = Clients(), MemoryInput("page")
        try:
            self.server = serve(self.handle, HOST, port, process_request=self.route, compression=None)
        except OSError as exc:
            raise GenseqError(f"cannot listen on {HOST}:{port} ({exc.strerror or exc})", "--web-port") from None
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="genseq-web")
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def route(self, connection, request):
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        if request.path == "/ws":
            return None  # the WebSocket handshake goes on
        if request.path in ("/", "/index.html"):
            headers = Headers([("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")])
            return Response(200, "OK", headers, PAGE.encode())
        return connection.respond(404, "not found\n")

    def handle(self, connection) -> None:
        self.clients.add(connection)
        try:
            for text in connection:
                message = page_message(text)
                if message is not None:
                    self.inport.put(message)
        except Exception:  # noqa: BLE001 - a page closing mid-message is the end of that page
            pass
        finally:
            self.clients.remove(connection)

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
