"""`genseq live --web`: the page and its WebSocket in front of the real engine. A WebSocket client
plays a call and gets the answer's notes; the page itself is tested in real headless Chromium
(Debian's chromium and chromium-driver, driven by selenium), pressing computer keys."""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.request

import pytest

from genseq.live.clock import SystemClock
from genseq.live.engine import CallAndResponse, EngineSettings
from genseq.live.player import NotePlayer
from genseq.live.runner import run_live
from genseq.live.web import PageOutput, WebServer, page_message
from tests.live.helpers import new_session

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def served():
    """The engine (120 qpm, a call ends 300 ms after the last key up) behind a page on a free port."""
    server = WebServer(0)
    player = NotePlayer(PageOutput("page", clients=server.clients).send)
    engine = CallAndResponse(new_session(), player, SystemClock(), EngineSettings(tempo=120, gap_ms=300, max_bars=1),
                             log=lambda _: None)
    stop = threading.Event()
    loop = threading.Thread(target=run_live, args=(engine, server.inport, SystemClock()),
                            kwargs={"stop_at": time.perf_counter() + 60, "stop": stop}, daemon=True)
    loop.start()
    yield server, engine
    stop.set()
    loop.join(timeout=10)
    server.close()


def test_the_page_is_self_contained(served):
    server, _ = served
    page = urllib.request.urlopen(server.url, timeout=5).read().decode()
    assert "<script>" in page and "new WebSocket" in page
    assert "http://" not in page and "https://" not in page and "<link" not in page and "src=" not in page


def test_a_call_over_the_websocket_gets_an_answer(served):
    from websockets.sync.client import connect

    server, engine = served
    with connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=5) as socket:
        for pitch in (60, 62, 64, 65, 67):
            socket.send(json.dumps({"on": pitch, "velocity": 90}))
            time.sleep(0.2)
            socket.send(json.dumps({"off": pitch}))
            time.sleep(0.05)
        notes, deadline = [], time.time() + 10
        while not notes and time.time() < deadline:
            data = json.loads(socket.recv(timeout=10))
            if data["type"] == "on":
                notes.append(data["note"])
    assert notes and engine.answers  # (how early it was ready is bench/live.py's business)


def test_page_messages_become_midi():
    assert page_message('{"on": 61, "velocity": 0}').velocity == 1
    assert page_message('{"off": 61}').type == "note_off"
    assert page_message('{"cc": 123, "value": 127}').control == 123
    assert page_message("not json") is None and page_message('{"on": "x"}') is None


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Debian's chromium and chromium-driver are not installed "
                                                        "(apt-get install chromium chromium-driver)")
def test_keys_pressed_in_headless_chromium_get_an_answer_that_plays(served, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains

    server, engine = served
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
                 f"--user-data-dir={tmp_path / 'chromium'}", "--disable-background-networking", "--no-first-run"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(server.url)
        wait_for(lambda: "connected" in driver.find_element("id", "status").text, 15)
        keys = ActionChains(driver)
        for key in "asdfg":
            keys.key_down(key).pause(0.2).key_up(key).pause(0.05)
        keys.perform()
        wait_for(lambda: int(driver.find_element("id", "answered").text) > 0, 15)
        voices = driver.execute_script("return window.genseq.voices")
        state = driver.execute_script("return window.genseq.audioState()")
    finally:
        driver.quit()
    assert engine.answers and engine.answers[0].notes
    assert voices["you"] == 5 and voices["answer"] > 0 and state == "running"


def wait_for(condition, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_port_in_use_is_one_line():
    from genseq.core.errors import GenseqError

    first = WebServer(0)
    try:
        with pytest.raises(GenseqError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            WebServer(first.port)
    finally:
        first.close()
