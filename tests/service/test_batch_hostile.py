"""`genseq batch` under hostile manifests and killed runs (issue 11): YAML bombs, control characters in
names, broken CSV, outputs that collide through a file the jobs write, kill -9 of the batch, stale
temporaries of a killed run, unreadable checkpoints and failed rows leaving empty folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from genseq.core.errors import GenseqError
from genseq.service.manifest import plan_batch, read_manifest_rows
from genseq.service.scheduler import run_batch
from tests.conftest import REPO, run_cli
from tests.service.conftest import needs_dance

QUICK = "{bars: 1, wav: false, png: false}"


def billion_laughs(levels: int = 9) -> str:
    """Anchors a..i, each a list of nine aliases of the one before: 9**9 strings once expanded."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        name, before = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [{', '.join(['*' + before] * 9)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["jobs", "parameters"])
def test_a_yaml_bomb_is_refused_before_it_grows(tmp_path, where):
    bomb = billion_laughs()
    if where == "jobs":
        text = f"bombs:\n{''.join('  ' + line + chr(10) for line in bomb.splitlines())}jobs: *i\n"
    else:
        text = (f"bombs:\n{''.join('  ' + line + chr(10) for line in bomb.splitlines())}"
                f"jobs:\n  - {{kind: music, output: a, parameters: {{seed: 1, extra: *i}}}}\n")
    manifest = tmp_path / "bomb.yaml"
    manifest.write_text(text)
    tracemalloc.start()
    try:
        with pytest.raises(GenseqError) as caught:
            read_manifest_rows(manifest)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert message.startswith(f"{manifest}: ") and "alias" in message and "\n" not in message
    assert peak < 50e6  # refused before it grew (memory, not wall time: a loaded machine is slow, not wrong)


def test_a_yaml_bomb_on_the_command_line_is_one_line(tmp_path, capsys):
    manifest = tmp_path / "bomb.yaml"
    manifest.write_text(billion_laughs() + "jobs: *i\n")
    code, out, err = run_cli(["batch", manifest, "--out", tmp_path / "root"], capsys)
    assert code == 2 and err.strip().count("\n") == 0 and str(manifest) in err and "Traceback" not in err, err
    assert not (tmp_path / "root").exists() or not any((tmp_path / "root").iterdir())


def test_a_recursive_alias_or_an_oversized_manifest_is_refused(tmp_path, monkeypatch):
    manifest = tmp_path / "loop.yaml"
    manifest.write_text("jobs: &jobs [*jobs]\n")
    with pytest.raises(GenseqError, match="contains it"):
        read_manifest_rows(manifest)
    import genseq.service.bounded_yaml as bounded

    manifest.write_text("- {kind: music, output: a}\n" * 100)
    monkeypatch.setattr(bounded, "MAX_MANIFEST_BYTES", 1000)
    monkeypatch.setattr(bounded.read_bounded_text, "__defaults__", (1000,))
    with pytest.raises(GenseqError, match="more than the 1,000"):
        read_manifest_rows(manifest)


def test_a_nul_byte_in_one_output_fails_that_row_only(assets, tmp_path, monkeypatch):
    monkeypatch.setenv("GENSEQ_ASSETS", str(assets))
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f'- {{kind: music, output: good, parameters: {QUICK}}}\n'
                        f'- {{kind: music, output: "bad\\0name", parameters: {QUICK}}}\n'
                        f'- {{kind: music, output: "bell\\aname", parameters: {QUICK}}}\n'
                        f'- {{kind: music, output: also-good, parameters: {QUICK}}}\n')
    report = run_batch(manifest, tmp_path / "root", workers=1)
    status = {r.row: (r.status, r.reason) for r in report.results}
    assert status[1][0] == "done" and status[4][0] == "done", status
    assert status[2][0] == "failed" and "control character (\\x00)" in status[2][1], status
    assert status[3][0] == "failed" and "control character (\\x07)" in status[3][1], status


def test_a_nul_byte_in_a_csv_cell_fails_that_row_only(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(b"kind,output,bars\nmusic,good,1\nmusic,bad\x00name,1\n")
    plan = plan_batch(manifest, tmp_path / "root")
    assert [job.output for job in plan.jobs] == ["good"]
    assert "control character" in plan.rejected[0].reason and plan.rejected[0].row == 2


def test_a_csv_with_an_unterminated_quote_is_refused(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text('kind,output,parameters\nmusic,fine,bars=1\nmusic,"broken,bars=2\nmusic,later,bars=1\n')
    root = tmp_path / "root"
    with pytest.raises(GenseqError) as caught:
        run_batch(manifest, root, workers=1)
    message = str(caught.value)
    assert message.startswith(f"{manifest}: line 3: ") and "unterminated quote" in message, message
    assert not root.exists()  # nothing ran, and no empty --out folder was made


def test_outputs_collide_through_any_file_a_job_writes(tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text("- {kind: dance, output: clip.mp4}\n"
                        "- {kind: dance, output: clip.mov, parameters: {cover: false}}\n"  # clip.png again
                        "- {kind: dance, output: two.mp4, parameters: {num_outputs: 2, preview: false}}\n"
                        "- {kind: dance, output: two_001.mov, parameters: {preview: false, cover: false}}\n"  # .mov: no clash
                        "- {kind: dance, output: two_001.mp4}\n"  # the second video of row 3
                        "- {kind: dance, output: keys.mp4, parameters: {keypoints: true, preview: false}}\n"
                        "- {kind: dance, output: keys.mov, parameters: {keypoints: true, preview: false, cover: false}}\n"
                        "- {kind: music, output: songs}\n"
                        "- {kind: dance, output: songs/sample_000.mp4}\n"  # its preview is the music's PNG
                        "- {kind: music, output: songs}\n"
                        "- {kind: dance, output: shot.mp4, parameters: {preview: false}}\n"
                        "- {kind: dance, output: shot.mov, parameters: {preview: false}}\n")  # its cover, shot.jpg
    plan = plan_batch(manifest, tmp_path / "root")
    assert [job.row for job in plan.jobs] == [1, 3, 4, 6, 8, 11]
    reasons = {r.row: r.reason for r in plan.rejected}
    assert reasons[2] == "clip.mov: writes clip.png, as does row 1"
    assert reasons[5] == "two_001.mp4: writes two_001.mp4, as does row 3"
    assert reasons[7] == "keys.mov: writes keys.npz, as does row 6"
    assert reasons[9] == "songs/sample_000.mp4: writes songs/sample_000.png, as does row 8"
    assert reasons[10] == "songs: same output as row 8"
    assert reasons[12] == "shot.mov: writes shot.jpg, as does row 11"


def descendants(pid: int) -> set[int]:
    """Every process below pid (Linux /proc)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += list(children - found)
            found |= children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended (its new parent reaps it)


needs_proc = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc to find the workers")

POOL_SCRIPT = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from genseq.service import workers

def start(parent):
    if sys.argv[1] == "prctl":
        workers.die_with_parent(parent)
    if sys.argv[1].startswith("watchdog"):
        workers.watch_parent(parent, every=0.1)

if __name__ == "__main__":
    context = multiprocessing.get_context("forkserver" if sys.argv[1].endswith("forkserver") else "fork")
    pool = ProcessPoolExecutor(2, mp_context=context, initializer=start, initargs=(os.getpid(),))
    for _ in range(2):
        pool.submit(time.sleep, 120)
    time.sleep(120)
"""


def kill_and_find_survivors(parent: subprocess.Popen, children: int) -> list[int]:
    """Wait for `children` descendants of parent, SIGKILL it, and return those still alive 5 s later."""
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while len(workers) < children and parent.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            workers = descendants(parent.pid)
        time.sleep(0.3)  # the workers have taken their first steps
        workers = descendants(parent.pid)
        assert len(workers) >= children and parent.poll() is None, "the parent ended before its workers were seen"
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 5
        while any(map(alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return [pid for pid in workers if alive(pid)]
    finally:
        for pid in workers | descendants(parent.pid) | {parent.pid}:  # (only when the test failed)
            if pid != parent.pid and not alive(pid):
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


@needs_proc
@pytest.mark.parametrize("how", ["prctl", "watchdog", "watchdog-forkserver"])
def test_pool_workers_die_with_their_killed_parent(tmp_path, how):
    """Each mechanism alone (fast): PR_SET_PDEATHSIG, and the getppid watchdog for systems without it,
    also under a fork server (the workers' parent is then the fork server, which ends with ours).
    (With neither, the workers stay blocked on their call queue for ever.)"""
    script = tmp_path / "pool.py"
    script.write_text(POOL_SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script), how], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children = 3 if how.endswith("forkserver") else 2  # (the fork server, then its two workers)
    assert kill_and_find_survivors(parent, children=children) == [], "workers outlived their killed parent"


@needs_proc
@pytest.mark.slow  # a fresh `genseq batch` imports torch and the music stack first: 10-15 s on a busy machine
def test_kill_9_of_batch_leaves_no_worker_alive(assets, tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text("".join(f"- {{kind: music, output: o{i}, parameters: {{bars: 256, seed: {i}, png: false}}}}\n"
                                for i in range(8)))
    env = {**os.environ, "GENSEQ_ASSETS": str(assets), "OMP_NUM_THREADS": "1"}
    batch = subprocess.Popen([sys.executable, "-m", "genseq.cli", "batch", str(manifest), "--out", str(tmp_path / "root"),
                              "--workers", "3", "--runner", "process"], cwd=REPO, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert kill_and_find_survivors(batch, children=2) == [], "workers outlived their killed parent"


def test_a_rerun_removes_the_temporaries_a_killed_run_left(assets, tmp_path, monkeypatch):
    monkeypatch.setenv("GENSEQ_ASSETS", str(assets))
    manifest = tmp_path / "m.yaml"
    manifest.write_text("- {kind: music, output: a, parameters: {bars: 1, wav: false}}\n")
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    stale = [root / "a" / ".sample_000.k3x_9abc.tmp.mid", root / "a" / ".sample_000.zzzzzzzz.tmp.png",
             root / "..a.genseq-job.a1b2c3d4.tmp.json"]
    others = [root / "a" / ".sample_0001.k3x_9abc.tmp.mid", root / "a" / "notes.tmp.mid", root / ".b.a1b2c3d4.tmp.mp4"]
    for path in stale + others:
        path.write_bytes(b"half-written")
    assert run_batch(manifest, root, workers=1).count("done") == 1
    assert [p.exists() for p in stale] == [False] * 3 and all(p.exists() for p in others)


@needs_dance
def test_a_rerun_removes_a_stale_temporary_mp4(assets, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    stale, other = root / ".clip.ab12cd34.tmp.mp4", root / ".clip2.ab12cd34.tmp.mp4"
    stale.write_bytes(b"\0" * 1000)
    other.write_bytes(b"\0" * 1000)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"- {{kind: dance, checkpoint: {assets / 'dance.pt'}, output: clip.mp4, "
                        "parameters: {seconds: 1, size: 64, preview: false}}\n")
    report = run_batch(manifest, root, workers=1)
    assert report.count("done") == 1, report.table()
    assert not stale.exists() and other.exists() and (root / "clip.mp4").stat().st_size > 1000


def test_row_errors_name_the_file_and_leave_no_empty_folders(assets, tmp_path, monkeypatch):
    monkeypatch.setenv("GENSEQ_ASSETS", str(assets))
    (tmp_path / "text.pt").write_text("not a checkpoint\n")
    (tmp_path / "random.pt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "bad.mid").write_text("not MIDI")
    (tmp_path / "root" / "kept").mkdir(parents=True)  # a folder that was there before stays
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"- {{kind: music, checkpoint: text.pt, output: deep/er/a, parameters: {QUICK}}}\n"
                        f"- {{kind: music, checkpoint: random.pt, output: b, parameters: {QUICK}}}\n"
                        f"- {{kind: music, primer: bad.mid, output: kept/c, parameters: {QUICK}}}\n"
                        f"- {{kind: dance, checkpoint: text.pt, output: d/clip.mp4}}\n")
    report = run_batch(manifest, tmp_path / "root", workers=2, runner="thread")
    reasons = {r.row: r.reason for r in report.results}
    assert reasons[1].startswith(f"{tmp_path / 'text.pt'}: not a readable checkpoint"), reasons
    assert reasons[2].startswith(f"{tmp_path / 'random.pt'}: not a readable checkpoint"), reasons
    assert reasons[3].startswith(f"{tmp_path / 'bad.mid'}: "), reasons
    assert reasons[4].startswith(f"{tmp_path / 'text.pt'}: "), reasons
    assert all("\n" not in why for why in reasons.values())
    assert sorted(p.relative_to(tmp_path / "root").as_posix() for p in (tmp_path / "root").rglob("*")) == ["kept"]
