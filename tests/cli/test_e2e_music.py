"""Extract, train a tiny model, evaluate, generate (primed) and render, on real Nottingham tunes."""

import json

import numpy as np
import pretty_midi

from genseq.core.notes import load_sequences
from tests.conftest import REPO, copy_nottingham, needs_nottingham, run_cli


@needs_nottingham
def test_music_path_end_to_end(tmp_path, capsys):
    data = tmp_path / "tunes"
    for split, count in (("train", 8), ("valid", 3), ("test", 3)):
        copy_nottingham(data / split, split, count)

    code, _, err = run_cli(["extract", "music", data / "train", "--out", tmp_path / "train.npz", "--steps-per-quarter", "1"], capsys)
    assert code == 0, err
    assert len(load_sequences(tmp_path / "train.npz")) == 8

    run = tmp_path / "run"
    code, _, err = run_cli(["train", "music", "--data", data, "--out", run, "--config", REPO / "configs" / "tiny.yaml",
                            "--representation", "melody"], capsys)
    assert code == 0, err
    assert (run / "best.pt").exists() and (run / "last.pt").exists()

    code, out, err = run_cli(["eval", "--checkpoint", run, "--data", data, "--json"], capsys)
    metrics = json.loads(out)
    assert code == 0 and metrics["pieces"] == 3 and metrics["frames"] > 100
    assert {"nll_per_frame", "nll_per_event", "accuracy"} <= metrics.keys() and np.isfinite(metrics["nll_per_frame"])

    primer = sorted((data / "test").glob("*.mid"))[0]
    gen = tmp_path / "gen"
    args = ["generate", "music", "--checkpoint", run / "best.pt", "--out", gen, "--primer", primer, "--bars", "4",
            "--num-outputs", "2", "--seed", "7", "--temperature", "0.8", "--top-p", "0.95", "--wav"]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    first = (gen / "sample_000.mid").read_bytes()
    midi = pretty_midi.PrettyMIDI(str(gen / "sample_000.mid"))
    assert midi.get_end_time() <= 4 * 2.0 + 1e-6  # 4 bars of 4/4 at the primer's 120 bpm, primer left out
    assert (gen / "sample_001.wav").stat().st_size > 10_000
    code, _, _ = run_cli(args, capsys)
    assert (gen / "sample_000.mid").read_bytes() == first  # same seed, same output

    code, _, err = run_cli(["render", "music", gen / "sample_000.mid"], capsys)
    assert code == 0 and (gen / "sample_000.png").stat().st_size > 500 and (gen / "sample_000.wav").exists()


def test_continuation_starts_on_a_bar_line(tmp_path, capsys):
    from genseq.core.options import GenerateMusicOptions
    from genseq.music.generate import generate_music, steps_to_next_bar
    from tests.conftest import write_tune

    assert steps_to_next_bar([(0, 4, 4)], 4, 40) == 8  # 2.5 bars of 4/4 in: half a bar to go
    assert steps_to_next_bar([(0, 4, 4)], 4, 32) == 0
    assert steps_to_next_bar([(0, 4, 4), (16, 3, 4)], 1, 20) == 2
    assert steps_to_next_bar([(0, 4, 4)], 1, 0) == 0

    run, data = tmp_path / "run", tmp_path / "data"
    data.mkdir()
    for i in range(3):
        write_tune(data / f"t{i}.mid", [(60 + i + k % 5, k * 0.5, (k + 1) * 0.5) for k in range(10)])
    code, _, err = run_cli(["train", "music", "--data", data, "--out", run, "--config", REPO / "configs" / "tiny.yaml",
                            "--representation", "melody", "--steps-per-quarter", "4"], capsys)
    assert code == 0, err
    pieces = generate_music(GenerateMusicOptions(checkpoint=str(run), out=str(tmp_path / "gen"), primer=str(data / "t0.mid"),
                                                  bars=2, num_outputs=2))
    assert [(p.total_steps, p.time_signatures) for p in pieces] == [(32, [(0, 4, 4)])] * 2
