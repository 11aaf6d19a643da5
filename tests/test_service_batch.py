"""`genseq batch`: manifests, bad rows failing alone, outputs kept inside the output root, skipping
complete and valid outputs, and redoing ones that were damaged."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pretty_midi
import pytest

from genseq.core.errors import GenseqError
from genseq.service.batch import plan_batch, run_batch
from genseq.service.files import inside_root
from tests.conftest import REPO, SCALE, run_cli, write_tune


def tiny_assets(base: Path) -> Path:
    """A folder shaped like assets/ (music-melody.pt, music-pianoroll.pt) holding tiny models trained
    here in seconds with configs/tiny.yaml; made once per test session (shared by the service tests)."""
    from genseq.music.stages import resolve_music_config, train_music

    assets = base / "tiny-assets"
    if (assets / "music-pianoroll.pt").exists():
        return assets
    tunes = base / "tiny-tunes"
    tunes.mkdir(parents=True, exist_ok=True)
    for index in range(4):
        write_tune(tunes / f"tune_{index}.mid", [(pitch + index, start, end) for pitch, start, end in SCALE])
    assets.mkdir(exist_ok=True)
    for representation in ("melody", "pianoroll"):
        config = resolve_music_config(REPO / "configs" / "tiny.yaml", representation, {})
        result = train_music(tunes, base / f"tiny-run-{representation}", config, device="cpu", show_progress=False)
        os.replace(result.best_checkpoint, assets / f"music-{representation}.pt")
    return assets


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    return tiny_assets(tmp_path_factory.getbasetemp())


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


def test_batch_bad_rows_fail_alone_nothing_escapes_and_reruns_skip(assets, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENSEQ_ASSETS", str(assets))
    work = tmp_path / "work"
    root = work / "root"
    root.mkdir(parents=True)
    outside = work / "outside"
    outside.mkdir()
    (root / "sneaky").symlink_to(outside)
    primer = write_tune(work / "primer.mid", SCALE[:8])
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
