"""`genseq stream dance`: an endless dance drawn frame by frame, paced at the model's rate, shown as
MJPEG on a local page and as MPEG-TS on stdout; nothing grows with time."""

from __future__ import annotations

import functools
import itertools
import subprocess
import sys
import urllib.request

import numpy as np
import pytest

from genseq.core.options import SamplingOptions
from genseq.live.clock import FakeClock
from genseq.live.dance_stream import CONTEXT, DanceSession, dance_frames, load_dance_model
from genseq.live.video_out import MjpegServer, play_frames
from tests.conftest import REPO, run_cli


@functools.lru_cache(maxsize=None)
def bundled_dance():
    return load_dance_model(None)


def new_dance(seed: int = 0) -> DanceSession:
    return DanceSession(bundled_dance(), SamplingOptions(temperature=1.2, seed=seed))


def test_frames_show_a_figure_and_the_state_stays_the_same_size():
    session = new_dance()
    frames = dance_frames(session, 128)
    first = next(frames)
    assert first.shape == (128, 128, 3) and first.dtype == np.uint8
    assert (first != first[0, 0]).any(axis=2).sum() > 100  # a figure, not a blank picture
    shapes = [tuple(t.shape) for layer in session.sampler.state for t in layer]
    later = list(itertools.islice(frames, 200))
    assert [tuple(t.shape) for layer in session.sampler.state for t in layer] == shapes
    assert not np.array_equal(later[-1], first)  # it moves


def test_same_seed_same_dance():
    a, b = (list(itertools.islice(dance_frames(new_dance(seed=4), 96), 25)) for _ in range(2))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


class Recorder:
    def __init__(self, clock):
        self.clock, self.times = clock, []

    def show(self, frame) -> None:
        self.times.append(self.clock.now())


def test_frames_go_out_on_their_times_and_late_ones_count_as_dropped():
    clock = FakeClock()
    shown = Recorder(clock)
    stats = play_frames(iter(np.zeros((1, 1, 3), np.uint8) for _ in range(1000)), [shown], clock, 30.0, seconds=2.0)
    assert stats.frames == 60 and stats.dropped == 0
    gaps = np.diff(shown.times)
    assert np.allclose(gaps, 1 / 30)

    def slow():
        for index in itertools.count():
            if index == 40:
                clock.advance(0.5)  # a stall of half a second while making frame 40
            yield np.zeros((1, 1, 3), np.uint8)

    stats = play_frames(slow(), [Recorder(clock)], clock, 30.0, seconds=3.0, ahead=2)
    assert stats.dropped >= 10 and stats.worst_late_ms > 400


def test_the_page_shows_the_mjpeg_stream():
    server = MjpegServer(0)
    try:
        page = urllib.request.urlopen(server.url, timeout=5).read().decode()
        assert '<img src="/stream.mjpg"' in page and "http" not in page.replace("http-equiv", "")
        server.show(np.full((32, 32, 3), 90, np.uint8))
        with urllib.request.urlopen(server.url + "stream.mjpg", timeout=5) as stream:
            assert "multipart/x-mixed-replace" in stream.headers["Content-Type"]
            head = stream.read(200)
        assert b"Content-Type: image/jpeg" in head and b"\xff\xd8" in head
    finally:
        server.close()


def test_mpegts_on_stdout_is_a_transport_stream():
    done = subprocess.run([sys.executable, "-m", "genseq.cli", "stream", "dance", "--seconds", "1", "--no-web",
                           "--mpegts", "--size", "96"], cwd=REPO, capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()
    ts = done.stdout
    assert len(ts) > 188 * 10 and len(ts) % 188 == 0 and all(ts[i] == 0x47 for i in range(0, len(ts), 188))
    assert b"0 dropped" in done.stderr or b"dropped" in done.stderr


def test_nowhere_to_show_is_one_line(capsys):
    code, _, err = run_cli(["stream", "dance", "--no-web"], capsys)
    assert code == 2 and err.strip().startswith("genseq: error: --no-web:") and len(err.strip().splitlines()) == 1


def test_the_decoder_keeps_only_its_context():
    session = new_dance()
    frames = dance_frames(session, 64)
    list(itertools.islice(frames, 95))
    decoder = frames.gi_frame.f_locals["decoder"]
    assert len(decoder.context) == CONTEXT


def test_sigterm_stops_like_ctrl_c():
    import signal

    process = subprocess.Popen([sys.executable, "-m", "genseq.cli", "stream", "dance", "--no-web", "--mpegts",
                                "--size", "64"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        started = b""
        while b"frames a second" not in started and process.poll() is None:  # it is streaming
            started = process.stderr.readline()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0 and b"interrupted" in err, err.decode()
