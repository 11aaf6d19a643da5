"""genseq as an operated service: a real Prefect server on a free loopback port with a temporary
PREFECT_HOME, genseq's deployments served (python -m flows.serve, what `genseq serve` runs),
runs started through the API, their states, artifacts and files checked; the batch flow on a
Dask LocalCluster; the UI in headless Chromium. Everything started here is stopped at the end
whatever happens (process groups killed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pretty_midi
import pytest

from genseq.service.server import PrefectServer, ServerSettings, free_port, stop_process_group
from tests.conftest import REPO, SCALE, write_tune
from tests.service.conftest import HAVE_DANCE, tiny_assets

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    return tiny_assets(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real `prefect server start` on a free 127.0.0.1 port, its database in a temporary PREFECT_HOME."""
    settings = ServerSettings(port=free_port(), prefect_home=tmp_path_factory.mktemp("prefect-home"))
    process = PrefectServer(settings)
    try:
        process.start(timeout=240)
        yield settings
    finally:
        process.stop()


@pytest.fixture(scope="module")
def api(server):
    """This process talks to the test server (and keeps its results under the temporary PREFECT_HOME)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_HOME: server.home}):
        try:
            yield server
        finally:
            drain_prefect_workers()


def drain_prefect_workers() -> None:
    """Send this process's queued logs and events while the server is still up (not at exit, to a dead port)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=20)
    EventsWorker.drain_all(timeout=20)


@pytest.fixture(scope="module")
def served(api, assets, tmp_path_factory):
    """`python -m flows.serve` in a work folder, with the tiny models standing in for the bundled ones."""
    work = tmp_path_factory.mktemp("served")
    env = {**os.environ, "PREFECT_API_URL": api.api_url, "PREFECT_HOME": str(api.home), "GENSEQ_ASSETS": str(assets),
           "PREFECT_RUNNER_POLL_FREQUENCY": "2", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "GENSEQ_BATCH_WORKERS": "2"}
    log = open(work / "serve.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "flows.serve"], cwd=work, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_deployments(api.api_url, 11, process, work / "serve.log")
        yield work
    finally:
        stop_process_group(process)
        log.close()


def post(url: str, body: dict) -> list | dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_for_deployments(api_url: str, count: int, process, log: Path, timeout: float = 180.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"flows.serve exited:\n{log.read_text()[-3000:]}"
        deployments = post(f"{api_url}/deployments/filter", {})
        if len(deployments) >= count and "polling" in log.read_text():
            return deployments
        time.sleep(1)
    raise AssertionError(f"deployments not registered in {timeout} s:\n{log.read_text()[-3000:]}")


def run(name: str, parameters: dict | None = None, timeout: float = 300):
    from prefect.deployments import run_deployment

    return run_deployment(name, parameters=parameters or {}, timeout=timeout, poll_interval=1)


def child_runs(client, flow_run_id) -> list:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    return client.read_flow_runs(flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id])))


def artifacts_of(client, flow_run_ids) -> list:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    return client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=list(flow_run_ids))))


def task_states(client, flow_run_ids) -> dict[str, str]:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(flow_run_ids))))
    return {run.name.rsplit("-", 1)[0]: run.state.name for run in runs}


@pytest.mark.slow
def test_music_pipeline_deployment_end_to_end(served, tmp_path_factory):
    from prefect.client.orchestration import get_client

    tunes = tmp_path_factory.mktemp("tunes")
    for index in range(4):
        write_tune(tunes / f"tune_{index}.mid", [(pitch + index, start, end) for pitch, start, end in SCALE])
    parameters = {"params": {"data": [str(tunes)], "work_dir": "pipeline", "config": str(REPO / "configs" / "tiny.yaml"),
                             "representation": "melody", "steps_per_quarter": 1, "epochs": 1, "bars": 2, "num_outputs": 1}}
    flow_run = run("music-pipeline/music-pipeline", parameters)
    assert flow_run.state.is_completed(), flow_run.state

    generated = served / "pipeline" / "generated"
    assert sorted(p.name for p in generated.iterdir()) == ["sample_000.mid", "sample_000.png", "sample_000.wav"]
    assert pretty_midi.PrettyMIDI(str(generated / "sample_000.mid")).instruments[0].notes
    assert (served / "pipeline" / "run" / "best.pt").exists()

    with get_client(sync_client=True) as client:
        children = child_runs(client, flow_run.id)
        assert sorted(c.name for c in children) and {c.state.name for c in children} == {"Completed"}
        ids = [flow_run.id] + [c.id for c in children]
        artifacts = artifacts_of(client, ids)
        by_kind = {}
        for artifact in artifacts:
            by_kind.setdefault(artifact.type, []).append(artifact)
        # the per-epoch training metrics table
        metrics = [a for a in by_kind["table"] if a.key == "train-music-metrics"]
        rows = json.loads(metrics[0].data) if isinstance(metrics[0].data, str) else metrics[0].data
        assert len(rows) == 1 and {"epoch", "train_loss", "valid_loss"} <= set(rows[0])
        # progress artifacts that reached 100%
        assert by_kind["progress"] and all(float(a.data) == 100.0 for a in by_kind["progress"])
        # the summary: paths, links to the media server, an audio player, the piano roll inline
        summary = next(a.data for a in by_kind["markdown"] if a.key == "generate-music")
        assert str(generated / "sample_000.mid") in summary
        assert "data:image/png;base64," in summary and "<audio" in summary
        link = summary.split("<audio controls preload=\"none\" src=\"")[1].split('"')[0]
        assert link.startswith("http://127.0.0.1:") and link.endswith("pipeline/generated/sample_000.wav")
        with urllib.request.urlopen(link, timeout=10) as response:
            assert response.read() == (generated / "sample_000.wav").read_bytes()

    # a second run on unchanged inputs: extraction and generation come from the cache
    stamp = (generated / "sample_000.wav").stat().st_mtime_ns
    again = run("music-pipeline/music-pipeline", parameters)
    assert again.state.is_completed(), again.state
    with get_client(sync_client=True) as client:
        states = task_states(client, [c.id for c in child_runs(client, again.id)])
    assert states.get("extract-music-files") == "Cached" and states.get("generate-music-files") == "Cached", states
    assert (generated / "sample_000.wav").stat().st_mtime_ns == stamp

    # outputs deleted: the cache is not trusted, generation runs again
    shutil.rmtree(generated)
    third = run("music-pipeline/music-pipeline", parameters)
    assert third.state.is_completed() and (generated / "sample_000.wav").exists()


@pytest.mark.slow
def test_deployment_defaults_give_real_results(served):
    """Clicking Run on the defaults works (the tiny models stand in for assets/*.pt here)."""
    cases = [("generate-music/generate-music", ["out/generated/sample_001.wav", "out/generated/sample_001.png"]),
             ("render-music/render-music", ["out/rendered/sample_000.wav", "out/rendered/sample_000.png"]),
             ("extract-music/extract-music", ["out/music-dataset.npz"]),
             ("render-dance/render-dance", ["out/rendered/dance.mp4", "out/rendered/dance.png"]),
             ("extract-motion/extract-motion", ["out/clips/synthetic_03.npz"]),
             ("batch-render/batch-render", ["out/batch/pianoroll-seed2/sample_000.wav"])]
    if HAVE_DANCE:
        cases.append(("generate-dance/generate-dance", ["out/dance.mp4", "out/dance.png"]))
    for name, expected in cases:
        flow_run = run(name)
        assert flow_run.state.is_completed(), (name, flow_run.state)
        for path in expected:
            assert (served / path).stat().st_size > 0, (name, path)


def test_batch_flow_on_a_dask_cluster(api, assets, tmp_path, monkeypatch):
    """The same manifest through prefect-dask's DaskTaskRunner, given a LocalCluster's scheduler address."""
    from distributed import LocalCluster

    from flows.batch_render import BatchRenderParams, batch_render

    monkeypatch.setenv("GENSEQ_ASSETS", str(assets))
    manifest = tmp_path / "jobs.csv"
    manifest.write_text("kind,checkpoint,primer,output,bars,seed,wav\n"
                        "music,,,melody-1,2,1,true\n"
                        f"music,{assets / 'music-pianoroll.pt'},,roll-2,2,2,false\n"
                        "music,missing.pt,,broken,2,3,false\n"
                        "music,,,../escape,2,4,false\n"
                        "music,text.pt,,deep/broken,2,5,false\n")  # fails after making its folders
    (tmp_path / "text.pt").write_text("not a checkpoint")
    root = tmp_path / "root"
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", dashboard_address=None) as cluster:
        params = BatchRenderParams(manifest=str(manifest), output_root=str(root), task_runner="dask",
                                   dask_address=cluster.scheduler_address)
        report = batch_render(params)
        status = {job["row"]: job["status"] for job in report["jobs"]}
        assert status == {1: "done", 2: "done", 3: "failed", 4: "failed", 5: "failed"}, report
        assert (root / "melody-1" / "sample_000.wav").exists() and (root / "roll-2" / "sample_000.png").exists()
        assert not (tmp_path / "escape").exists() and not (root / "deep").exists()  # no empty folders left
        again = batch_render(params)
    assert (again["done"], again["skipped"], again["failed"]) == (0, 2, 3)


def run_chromium(command: list[str], timeout: float = 120) -> str:
    """Chromium's stdout; it and every process it started are killed if it overruns."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=timeout)
        return out.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return ""
    finally:
        stop_process_group(process, grace=2)


def ui_page(api, tmp_path, path: str) -> str:
    """The DOM of one page of the Prefect UI as headless Chromium renders it."""
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1400,1000",
               "--virtual-time-budget=20000", "--dump-dom", f"{api.ui_url}{path}"]
    return run_chromium(command)


needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)")


@needs_chromium
def test_ui_lists_genseq_deployments_and_shows_outputs(served, api, tmp_path):
    """The bundled UI, rendered by headless Chromium: the served deployments are listed, and a run's
    summary shows its piano roll inline and an audio player."""
    from prefect.client.orchestration import get_client

    def chromium(path: str) -> str:
        return ui_page(api, tmp_path, path)

    from flows.serve import DESCRIPTIONS, FLOWS

    count = sum(len(flows) for flows in FLOWS.values())  # one deployment a flow
    dom = ""
    for _ in range(3):  # the SPA may need a second load on a busy machine
        dom = chromium("/deployments")
        if f"{count} Deployments" in dom:
            break
    assert f"{count} Deployments" in dom, dom[-2000:]
    shown = [name for name in DESCRIPTIONS if f">{name}<" in dom]
    assert len(shown) >= min(count, 10), shown  # the UI pages its list ten at a time

    flow_run = run("render-music/render-music")
    assert flow_run.state.is_completed()
    with get_client(sync_client=True) as client:
        summary = next(a for a in artifacts_of(client, [flow_run.id]) if a.type == "markdown")
    page = ""
    for _ in range(3):
        page = chromium(f"/artifacts/artifact/{summary.id}")
        if "<audio" in page:
            break
    assert 'src="data:image/png;base64,' in page and "<img" in page and "<audio" in page, page[-2000:]


@needs_chromium
def test_ui_shows_a_training_runs_loss_curves(served, api, tmp_path):
    """A train run's summary in the UI shows its loss curves (RUN/loss_curves.png) as a picture."""
    from prefect.client.orchestration import get_client

    flow_run = run("train/train", {"domain": "music", "music": {"config": str(REPO / "configs" / "tiny.yaml"), "epochs": 2,
                                                                 "out": "runs/ui-curves"}})
    assert flow_run.state.is_completed()
    with get_client(sync_client=True) as client:
        summary = next(a for a in artifacts_of(client, [flow_run.id]) if a.type == "markdown")
    assert "loss_curves.png" in summary.data
    page = ""
    for _ in range(3):
        page = ui_page(api, tmp_path, f"/artifacts/artifact/{summary.id}")
        if "<img" in page:
            break
    assert "<img" in page and "data:image/png;base64," in page and "loss_curves.png" in page, page[-2000:]


def test_retries_only_where_a_retry_can_help(api):
    """Stage tasks retry I/O hiccups (EIO ...) and never bad input (GenseqError) or a missing file."""
    import errno

    from prefect import flow, task

    from flows.tasks import retry_transient
    from genseq.core.errors import GenseqError

    attempts: dict[str, int] = {}

    @task(retries=2, retry_delay_seconds=0, retry_condition_fn=retry_transient, persist_result=False)
    def flaky(kind: str) -> str:
        attempts[kind] = attempts.get(kind, 0) + 1
        if kind == "io" and attempts[kind] < 3:
            raise OSError(errno.EIO, "input/output error")
        if kind == "bad":
            raise GenseqError("not a MIDI file", "x.mid")
        if kind == "missing":
            raise FileNotFoundError(errno.ENOENT, "no such file", "x.mid")
        return "ok"

    @flow
    def check() -> dict:
        return {kind: flaky(kind, return_state=True).type.value for kind in ("io", "bad", "missing")}

    assert check() == {"io": "COMPLETED", "bad": "FAILED", "missing": "FAILED"}
    assert attempts == {"io": 3, "bad": 1, "missing": 1}
