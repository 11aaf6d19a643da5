"""Where an endless dance goes: a local page that shows it as MJPEG (a browser, or a streaming
tool's browser source, at http://127.0.0.1:PORT/), MPEG-TS on stdout for ffmpeg (H.264), and the
loop that paces frames at the model's rate and counts the ones that came too late."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from genseq.core.errors import GenseqError

HOST, BOUNDARY = "127.0.0.1", "genseqframe"
JPEG_QUALITY = 85
VIEWER = """<!doctype html><html><head><meta charset="utf-8"><title>genseq stream dance</title>
<style>body{margin:0;background:#141418;display:flex;align-items:center;justify-content:center;height:100vh}
img{max-width:100vw;max-height:100vh}</style></head><body><img src="/stream.mjpg" alt="genseq dance"></body></html>"""


class MjpegServer:
    """The latest frame as JPEG to every viewer of /stream.mjpg; a slow viewer skips frames, it never
    holds the stream up."""

    def __init__(self, port: int):
        self.latest, self.number, self.changed, self.open = b"", 0, threading.Condition(), True
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # no request log on the terminal
                pass

            def do_GET(self):
                if self.path in ("/", "/index.html"):
                    self.reply(200, "text/html; charset=utf-8", VIEWER.encode())
                elif self.path == "/stream.mjpg":
                    server.feed(self)
                else:
                    self.reply(404, "text/plain", b"not found\n")

            def reply(self, code: int, kind: str, body: bytes):
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        try:
            self.http = ThreadingHTTPServer((HOST, port), Handler)
        except OSError as exc:
            raise GenseqError(f"cannot listen on {HOST}:{port} ({exc.strerror or exc})", "--web-port") from None
        self.http.daemon_threads = True
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True, name="genseq-mjpeg")
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def show(self, frame) -> None:
        import cv2

        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        with self.changed:
            self.latest, self.number = jpeg.tobytes(), self.number + 1
            self.changed.notify_all()

    def feed(self, handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        seen = -1
        try:
            while self.open:
                with self.changed:
                    self.changed.wait_for(lambda: self.number != seen or not self.open, timeout=1.0)
                    jpeg, seen = self.latest, self.number
                if jpeg:
                    handler.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode())
                    handler.wfile.write(jpeg + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the viewer went away

    def close(self) -> None:
        with self.changed:
            self.open = False
            self.changed.notify_all()
        self.http.shutdown()
        self.http.server_close()


class MpegTsOutput:
    """H.264 in MPEG-TS on this process's stdout, through the bundled ffmpeg (pipe it on: | ffplay -)."""

    def __init__(self, size: int, fps: float):
        from genseq.core.ffmpeg import ffmpeg_exe, raw_input_args

        command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *raw_input_args(size, size, fps),
                   "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
                   "-g", str(int(fps)), "-f", "mpegts", "pipe:1"]
        sys.stdout.flush()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=sys.stdout.fileno())

    def show(self, frame) -> None:
        try:
            self.process.stdin.write(frame.tobytes())
        except (BrokenPipeError, OSError):
            raise GenseqError("the MPEG-TS reader closed its end (stdout); stopped", "stdout") from None

    def close(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class PacingStats:
    frames: int = 0
    dropped: int = 0  # frames ready more than a frame period after their time: a viewer saw one twice
    worst_late_ms: float = 0.0


class FramesAhead:
    """Frames made in a thread of their own, up to `ahead` before they are shown: a chunk that takes
    longer than a frame to make is then absorbed. Bounded: memory does not grow."""

    def __init__(self, frames, ahead: int):
        self.queue, self.failure, self.running = queue.Queue(maxsize=ahead), None, True
        self.thread = threading.Thread(target=self.make, args=(frames,), daemon=True, name="genseq-frames")
        self.thread.start()

    def make(self, frames) -> None:
        try:
            for frame in frames:
                while self.running:
                    try:
                        self.queue.put(frame, timeout=0.2)
                        break
                    except queue.Full:  # the showing side is behind: wait
                        continue
                if not self.running:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the showing side
            self.failure = exc
            self.queue.put(None)

    def wait_full(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.queue.full() and self.failure is None and time.monotonic() < deadline:
            time.sleep(0.01)

    def __next__(self):
        frame = self.queue.get()
        if frame is None and self.failure is not None:
            raise self.failure
        return frame

    def close(self) -> None:
        self.running = False


def play_frames(frames, outputs, clock, fps: float, seconds: float | None = None, on_frame=None,
                ahead: int = 45) -> PacingStats:
    """Show each frame on every output at its time (fps a second) until `seconds` have played; frames
    are made up to `ahead` in advance."""
    stats, period = PacingStats(), 1.0 / fps
    frames = FramesAhead(frames, ahead)
    frames.wait_full()
    start = clock.now() + period
    try:
        while seconds is None or stats.frames < round(seconds * fps):
            stats.frames = show_next(frames, outputs, clock, start, period, stats, on_frame)
    finally:
        frames.close()
    return stats


def show_next(frames, outputs, clock, start: float, period: float, stats: PacingStats, on_frame) -> int:
    frame = next(frames)
    due = start + stats.frames * period
    late = clock.now() - due
    if late > period:
        stats.dropped += 1
    stats.worst_late_ms = max(stats.worst_late_ms, late * 1000)
    clock.sleep_until(due)  # a frame needs no sub-millisecond timing, and spinning costs CPU the frames need
    for output in outputs:
        output.show(frame)
    if on_frame is not None:
        on_frame(stats.frames, late)
    return stats.frames + 1
