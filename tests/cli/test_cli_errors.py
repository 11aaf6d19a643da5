"""Bad input: one clear line naming the file and the problem, a non-zero exit, nothing half-written."""

import subprocess
import sys

import pytest
import torch

from genseq.model.checkpoint import save_checkpoint
from tests.conftest import REPO, run_cli, write_tune


def assert_one_clear_line(code, err, path):
    lines = [line for line in err.strip().splitlines() if line.startswith("genseq: error")]
    assert code != 0, err
    assert len(lines) == 1 and str(path) in lines[0], err
    assert "Traceback" not in err


def no_temporaries(folder):
    return not [p for p in folder.rglob("*") if ".tmp" in p.name]


@pytest.fixture
def bad_midis(tmp_path):
    files = {
        "empty.mid": b"",
        "text.mid": b"this is not a MIDI file\n",
        "corrupt.mid": b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x10\x00\x90\x3c",
    }
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(content)
    paths["drums.mid"] = write_tune(tmp_path / "drums.mid", [(36, 0, 0.1), (38, 0.5, 0.6)], is_drum=True)
    paths["silent.mid"] = write_tune(tmp_path / "silent.mid", [])
    return paths


@pytest.mark.parametrize("name, problem", [("empty.mid", "empty file"), ("text.mid", "not a MIDI file"),
                                           ("corrupt.mid", "corrupt MIDI"), ("drums.mid", "only drum tracks"),
                                           ("silent.mid", "no notes")])
def test_extract_bad_midi(bad_midis, tmp_path, capsys, name, problem):
    out = tmp_path / "out" / "set.npz"
    code, _, err = run_cli(["extract", "music", bad_midis[name], "--out", out], capsys)
    assert_one_clear_line(code, err, bad_midis[name])
    assert problem in err and not out.exists()


def test_extract_reports_each_dropped_file_and_keeps_the_rest(bad_midis, tune, tmp_path, capsys):
    out = tmp_path / "set.npz"
    code, _, err = run_cli(["extract", "music", tmp_path, "--out", out, "--quiet"], capsys)
    assert code == 0 and out.exists() and "1 kept, 5 dropped" in err
    code, _, err = run_cli(["extract", "music", tmp_path, "--out", out], capsys)
    assert f"dropped {bad_midis['drums.mid']}: only drum tracks" in err


@pytest.fixture
def checkpoints(tmp_path):
    good = save_checkpoint(tmp_path / "good.pt", {"kind": "music", "state_dict": {"w": torch.ones(1000)}})
    paths = {"empty.pt": tmp_path / "empty.pt", "truncated.pt": tmp_path / "truncated.pt"}
    paths["empty.pt"].write_bytes(b"")
    paths["truncated.pt"].write_bytes(good.read_bytes()[:300])
    paths["dance.pt"] = save_checkpoint(tmp_path / "dance.pt", {"kind": "dance", "state_dict": {}})
    return paths


@pytest.mark.parametrize("name, problem", [("empty.pt", "empty checkpoint"), ("truncated.pt", "not a readable checkpoint"),
                                           ("dance.pt", "expected a music checkpoint")])
def test_generate_and_eval_refuse_bad_checkpoints(checkpoints, tune, tmp_path, capsys, name, problem):
    out = tmp_path / "gen"
    out.mkdir()
    keep = out / "sample_000.mid"
    keep.write_bytes(b"earlier work")
    code, _, err = run_cli(["generate", "music", "--checkpoint", checkpoints[name], "--out", out], capsys)
    assert_one_clear_line(code, err, checkpoints[name])
    assert problem in err and keep.read_bytes() == b"earlier work" and no_temporaries(out)
    if name != "dance.pt":  # eval takes dance checkpoints too (it evaluates by the checkpoint's kind)
        code, _, err = run_cli(["eval", "--checkpoint", checkpoints[name], "--data", tune, "--json"], capsys)
        assert_one_clear_line(code, err, checkpoints[name])


def test_unknown_config_keys(tmp_path, tune, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("representation: melody\nmodel:\n  hidden_sise: 64\n")
    code, _, err = run_cli(["train", "music", "--data", tmp_path, "--out", tmp_path / "run", "--config", config], capsys)
    assert_one_clear_line(code, err, config)
    assert "model.hidden_sise" in err and not (tmp_path / "run").exists()


def test_output_folder_not_writable(tmp_path, tune, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    code, _, err = run_cli(["render", "music", tune, "--wav", blocker / "x.wav", "--png", blocker / "x.png"], capsys)
    assert_one_clear_line(code, err, blocker)
    code, _, err = run_cli(["extract", "music", tune, "--out", blocker / "set.npz"], capsys)
    assert_one_clear_line(code, err, blocker)


def test_missing_fluidsynth_is_said_and_sine_needs_consent(tune, tmp_path, capsys, monkeypatch):
    import genseq.music.render as render

    monkeypatch.setattr(render, "fluidsynth_problem", lambda: "the FluidSynth library is missing")
    wav = tmp_path / "t.wav"
    code, _, err = run_cli(["render", "music", tune, "--wav", wav, "--png", tmp_path / "t.png"], capsys)
    assert_one_clear_line(code, err, tune)
    assert "--allow-sine" in err and not wav.exists()
    code, _, _ = run_cli(["render", "music", tune, "--wav", wav, "--png", tmp_path / "t.png", "--allow-sine"], capsys)
    assert code == 0 and wav.stat().st_size > 1000


def test_real_process_exit_code_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"nope")
    proc = subprocess.run([sys.executable, "-m", "genseq.cli", "extract", "music", str(bad), "--out", str(tmp_path / "o.npz")],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"genseq: error: {bad}: not a MIDI file (no MThd header)"
