"""`genseq batch`: manifests, bad rows failing alone, outputs kept inside the output root, skipping
complete and valid outputs, and redoing ones that were damaged."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pretty_midi
import pytest

from genseq.core.errors import GenseqError
from genseq.service.manifest import plan_batch
from genseq.service.scheduler import run_batch
from genseq.service.files import inside_root
from tests.conftest import REPO, SCALE, run_cli, write_tune
from tests.service.conftest import needs_dance


def outside_root(work: Path, root: Path) -> set[Path]:
    """Everything under work that is not under root."""
    return {p for p in work.rglob("*") if p != root and root not in p.parents}


def test_output_paths_cannot_escape_the_root(tmp_path):
    root = tmp_path / "root"
    (root / "inside").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "out-link").symlink_to(tmp_path / "elsewhere")
    (root / "in-link").symlink_to(root / "inside")
    assert inside_root(root, "a/b.mp4") == (root / "a" / "b.mp4").resolve()
    assert inside_root(root, "in-link/x") == (root / "inside" / "x").resolve()
    for bad, why in [("../x", "'..'"), ("a/../../x", "'..'"), (str(tmp_path / "x"), "absolute"), ("~/x", "absolute"),
                     ("out-link/x", "symlink"), ("", "empty"), (".", "root itself")]:
        with pytest.raises(GenseqError, match=why):
            inside_root(root, bad)


def test_csv_manifest_rows_and_their_problems(tmp_path):
    manifest = tmp_path / "jobs.csv"
    manifest.write_text(
        "kind,checkpoint,primer,output,parameters,seed\n"
        'music,,,a,"{""bars"": 2, ""temperature"": 0.5}",3\n'
        "music,,,b,bars=4;wav=false,\n"
        "dance,,,c.mp4,seconds=3,\n"
        "music,,,d,{not json,\n"
        "dance,,,e.mid,,\n"
        "music,,,f,bars=0,\n"
        "music,,,a,,\n"
        "music,,,../g,,\n")
    plan = plan_batch(manifest, tmp_path / "root")
    jobs = {job.output: job for job in plan.jobs}
    assert set(jobs) == {"a", "b", "c.mp4"}
    assert jobs["a"].parameters.bars == 2 and jobs["a"].parameters.temperature == 0.5 and jobs["a"].parameters.seed == 3
    assert jobs["b"].parameters.bars == 4 and jobs["b"].parameters.wav is False
    assert jobs["c.mp4"].parameters.seconds == 3.0
    reasons = {r.row: r.reason for r in plan.rejected}
    assert "not valid JSON" in reasons[4]
    assert "video file" in reasons[5]
    assert "bars" in reasons[6] and "greater than or equal to 1" in reasons[6]
    assert "same output as row 1" in reasons[7]
    assert "'..'" in reasons[8]


def test_yaml_manifest_that_is_not_a_list(tmp_path):
    manifest = tmp_path / "jobs.yaml"
    manifest.write_text("kind: music\n")
    with pytest.raises(GenseqError, match="list of jobs"):
        plan_batch(manifest, tmp_path / "root")


def test_longest_jobs_first_and_only_the_modules_they_need(tmp_path):
    from genseq.service.scheduler import largest_first
    from genseq.service.workers import modules_for

    manifest = tmp_path / "m.yaml"
    manifest.write_text("- {kind: music, output: a, parameters: {bars: 2, png: false}}\n"
                        "- {kind: music, output: b, parameters: {bars: 16, png: false}}\n"
                        "- {kind: dance, output: c.mp4, parameters: {seconds: 5}}\n"
                        "- {kind: music, output: d, parameters: {seconds: 30, num_outputs: 2, png: false}}\n"
                        "- {kind: music, output: e, parameters: {bars: 2, png: false, wav: false}}\n")
    jobs = plan_batch(manifest, tmp_path / "root").jobs
    assert [job.output for job in largest_first(jobs)] == ["d", "c.mp4", "b", "a", "e"]
    music = [job for job in jobs if job.kind == "music"]
    assert "cv2" not in modules_for(music) and "soundfile" in modules_for(music)
    assert "soundfile" not in modules_for(music[-1:]) and "cv2" in modules_for(jobs)


def test_step_queue_keeps_short_audio_steps_for_the_end(tmp_path):
    """The process runner's queue: music jobs with audio split into generate and audio steps; up to
    `reserve` ready audio steps wait while whole jobs remain, so the batch ends on short steps."""
    from genseq.service.results import JobResult
    from genseq.service.scheduler import StepQueue

    manifest = tmp_path / "m.yaml"
    manifest.write_text("".join(f"- {{kind: music, output: o{i}, parameters: {{bars: {8 - i}}}}}\n" for i in range(5))
                        + "- {kind: music, output: silent, parameters: {bars: 1, wav: false}}\n")
    queue = StepQueue(plan_batch(manifest, tmp_path / "root").jobs, reserve=2)
    taken = []

    def run_next() -> None:
        task = queue.take(wait=False)
        taken.append(f"{task.job.output}:{task.step}")
        result = JobResult(task.job.row, task.job.kind, task.job.output, "pending", files=[f"{task.job.output}.mid"],
                           seconds=1.0, steps=[{"step": task.step}])
        if task.step == "generate":
            result.next_step = "audio"
        else:
            result.status = "done"
        final = queue.finish(task, result)
        if task.step == "audio":  # the job's result covers both steps
            assert final.status == "done" and final.seconds == 2.0 and final.next_step == ""
            assert [step["step"] for step in final.steps] == ["generate", "audio"]
        else:
            assert (final is None) == (task.step == "generate")

    while queue.unfinished:
        run_next()
    assert taken == ["o0:generate", "o1:generate", "o2:generate", "o0:audio", "o3:generate", "o1:audio",
                     "o4:generate", "o2:audio", "silent:all", "o3:audio", "o4:audio"]
    assert queue.take() is None  # nothing left: a waiting worker is let go


def test_a_shared_input_is_hashed_once_per_version(tmp_path):
    from genseq.service.files import _sha256_of_version, sha256_file

    model = tmp_path / "model.pt"
    model.write_bytes(b"one")
    first = sha256_file(model)
    hits = _sha256_of_version.cache_info().hits
    assert first == sha256_file(model) == hashlib.sha256(b"one").hexdigest()
    assert _sha256_of_version.cache_info().hits == hits + 1  # read once, not once per row and check
    model.write_bytes(b"other bytes")
    assert sha256_file(model) == hashlib.sha256(b"other bytes").hexdigest() != first


def test_batch_bad_rows_fail_alone_nothing_escapes_and_reruns_skip(assets, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENSEQ_ASSETS", str(assets))
    work = tmp_path / "work"
    root = work / "root"
    root.mkdir(parents=True)
    outside = work / "outside"
    outside.mkdir()
    (root / "sneaky").symlink_to(outside)
    write_tune(work / "primer.mid", SCALE[:8])
    manifest = work / "manifest.yaml"
    manifest.write_text(f"""
jobs:
  - {{kind: music, output: melodies/one, parameters: {{seed: 1, bars: 2, num_outputs: 2}}}}
  - {{kind: music, checkpoint: {assets / 'music-pianoroll.pt'}, primer: primer.mid, output: rolls,
      parameters: {{seed: 2, bars: 2, wav: false}}}}
  - {{kind: music, checkpoint: no-such-model.pt, output: broken, parameters: {{bars: 2}}}}
  - {{kind: music, output: ../escaped, parameters: {{bars: 2}}}}
  - {{kind: music, output: {work / 'absolute'}, parameters: {{bars: 2}}}}
  - {{kind: music, output: sneaky/through-link, parameters: {{bars: 2}}}}
  - {{kind: music, output: typo, parameters: {{barz: 2}}}}
""")
    before = outside_root(work, root)
    report = tmp_path / "report.json"
    args = ["batch", manifest, "--out", root, "--workers", "2", "--runner", "process", "--report", report]
    code, out, err = run_cli(args, capsys)
    assert code == 1, err  # some rows failed
    result = json.loads(report.read_text())
    status = {job["row"]: (job["status"], job["reason"]) for job in result["jobs"]}
    assert status[1][0] == "done" and status[2][0] == "done", status
    assert status[3] == ("failed", f"{work / 'no-such-model.pt'}: no such checkpoint file or run folder")
    assert "'..'" in status[4][1] and "absolute" in status[5][1] and "symlink" in status[6][1]
    assert "barz" in status[7][1]
    assert (result["done"], result["skipped"], result["failed"]) == (2, 0, 5)
    assert [step["step"] for step in result["jobs"][0]["steps"]] == ["generate", "audio"]  # audio: a step of its own
    for line in ("done", "failed", "why", "no such checkpoint"):
        assert line in out

    # the good rows wrote real files, inside the root only
    one = root / "melodies" / "one"
    assert sorted(p.name for p in one.iterdir()) == [f"sample_00{i}.{s}" for i in (0, 1) for s in ("mid", "png", "wav")]
    assert pretty_midi.PrettyMIDI(str(one / "sample_000.mid")).instruments[0].notes
    assert (root / "rolls" / "sample_000.mid").exists() and not (root / "rolls" / "sample_000.wav").exists()
    assert outside_root(work, root) == before  # nothing new outside the root (the symlink's target stays empty)
    assert not list(outside.iterdir()) and not (work / "escaped").exists() and not (work / "absolute").exists()
    assert not [p for p in root.rglob("*") if ".tmp" in p.name]

    # a second run skips the complete rows without touching them
    stamps = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    code, out, err = run_cli(args, capsys)
    result = json.loads(report.read_text())
    assert (result["done"], result["skipped"], result["failed"]) == (0, 2, 5), result
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == stamps

    # a damaged output is not valid: only its row runs again
    wav = one / "sample_001.wav"
    wav.write_bytes(wav.read_bytes()[:1000])
    code, out, err = run_cli(args, capsys)
    result = json.loads(report.read_text())
    status = {job["row"]: job["status"] for job in result["jobs"]}
    assert status[1] == "done" and status[2] == "skipped", status
    assert wav.stat().st_size > 10_000


def test_changed_parameters_or_checkpoint_run_again(assets, tmp_path, monkeypatch):
    monkeypatch.setenv("GENSEQ_ASSETS", str(assets))
    manifest = tmp_path / "m.yaml"
    manifest.write_text("- {kind: music, output: a, parameters: {bars: 2, wav: false, png: false}}\n")
    root = tmp_path / "root"
    assert run_batch(manifest, root, workers=1).count("done") == 1
    assert run_batch(manifest, root, workers=1).count("skipped") == 1
    manifest.write_text("- {kind: music, output: a, parameters: {bars: 2, wav: false, png: false, seed: 5}}\n")
    assert run_batch(manifest, root, workers=1).count("done") == 1
    assert run_batch(manifest, root, workers=1, runner="thread").count("skipped") == 1


@needs_dance
def test_dance_rows(assets, tmp_path):
    """Dance jobs: H.264 videos (numbered when several), keypoint clips and contact-sheet previews; then skipped."""
    from flows.examples import write_example_bvh

    write_example_bvh(tmp_path / "primer.bvh", seconds=3.0, seed=7)
    manifest = tmp_path / "dance.yaml"
    manifest.write_text(f"""
- {{kind: dance, checkpoint: {assets / 'dance.pt'}, output: a/two.mp4, parameters: {{seconds: 2, size: 96, num_outputs: 2, keypoints: true}}}}
- {{kind: dance, checkpoint: {assets / 'dance.pt'}, primer: primer.bvh, output: b.mp4, parameters: {{seconds: 2, size: 96, camera: fixed}}}}
- {{kind: dance, checkpoint: {assets / 'dance.pt'}, output: c.mp4, parameters: {{seconds: 2, size: 95}}}}
- {{kind: dance, output: d.mid}}
""")
    root = tmp_path / "root"
    report = run_batch(manifest, root, workers=2, runner="thread")
    status = {r.row: (r.status, r.reason) for r in report.results}
    assert status[1][0] == "done" and status[2][0] == "done", status
    assert status[3][0] == "failed" and "even number" in status[3][1]  # bad option: fails alone
    assert status[4][0] == "failed" and "video file" in status[4][1]
    for name in ("a/two_000.mp4", "a/two_001.mp4", "b.mp4"):
        data = (root / name).read_bytes()
        assert data[4:8] == b"ftyp" and len(data) > 1000, name
    assert (root / "a" / "two_001.npz").exists() and (root / "a" / "two_000.png").exists() and (root / "b.png").exists()
    again = run_batch(manifest, root, workers=2, runner="thread")
    assert (again.count("done"), again.count("skipped"), again.failed) == (0, 2, 2)


CRASH = {"parent": None, "run_job": None}


def dies_in_a_worker(job, output_root, device=None, *step):
    """run_job, except that it kills the worker process it runs in (as a segfault or OOM kill would)."""
    if os.getpid() != CRASH["parent"]:
        os._exit(3)
    return CRASH["run_job"](job, output_root, device, *step)


def test_a_crashed_worker_fails_only_its_job(assets, tmp_path, monkeypatch):
    """A worker process that dies fails the job it ran; this process runs the rest, and every other row completes."""
    import genseq.service.scheduler as scheduler

    CRASH.update(parent=os.getpid(), run_job=scheduler.run_job)
    monkeypatch.setenv("GENSEQ_ASSETS", str(assets))
    monkeypatch.setattr(scheduler, "run_job", dies_in_a_worker)  # workers are forked: they see it too
    manifest = tmp_path / "m.yaml"
    manifest.write_text("".join(f"- {{kind: music, output: o{i}, parameters: {{bars: 1, seed: {i}, wav: false, png: false}}}}\n"
                                for i in range(5)))
    report = run_batch(manifest, tmp_path / "root", workers=2, runner="process")
    status = {r.row: (r.status, r.reason) for r in report.results}
    assert len(status) == 5
    crashed = [row for row, (state, why) in status.items() if state == "failed"]
    assert crashed == [1] and "worker crashed" in status[1][1], status  # the first job goes to the worker
    assert all(state == "done" for row, (state, _) in status.items() if row != 1), status


def test_audio_step_keeps_the_files_in_sample_order_and_the_first_steps_fingerprint(assets, tmp_path, monkeypatch):
    """The split steps give the files and record of the one-step run (each WAV after its own sample's
    files), and the record describes the inputs as the generate step read them."""
    from genseq.service.jobs import run_job

    monkeypatch.setenv("GENSEQ_ASSETS", str(assets))
    manifest = tmp_path / "m.yaml"
    manifest.write_text("- {kind: music, output: whole, parameters: {bars: 1, num_outputs: 2}}\n"
                        "- {kind: music, output: split, parameters: {bars: 1, num_outputs: 2}}\n")
    whole, split = (job.model_dump() for job in plan_batch(manifest, tmp_path / "root").jobs)
    one = run_job(whole, tmp_path / "root")
    first = run_job(split, tmp_path / "root", step="generate")
    assert (first.status, first.next_step) == ("pending", "audio") and first.fingerprint
    last = run_job(split, tmp_path / "root", step="audio", earlier=first)
    assert last.status == "done", last.reason
    assert [Path(f).name for f in last.files] == [Path(f).name for f in one.files] == [
        f"sample_00{i}.{suffix}" for i in (0, 1) for suffix in ("mid", "png", "wav")]
    record = json.loads((tmp_path / "root" / ".split.genseq-job.json").read_text())
    assert record["fingerprint"] == first.fingerprint
    assert run_job(split, tmp_path / "root").status == "skipped"
