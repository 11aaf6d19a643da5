"""bench/transcription.py end to end on two tiny real melodies (genseq only), so the benchmark does not rot."""

import json

import numpy as np
import pytest

from tests.bench.conftest import load_bench
from tests.conftest import NOTTINGHAM, needs_nottingham


@pytest.fixture(scope="module")
def bench():
    return load_bench("transcription")


def test_tempo_levels_tell_octave_errors_apart(bench):
    assert bench.tempo_level(121.0, 120.0) == "correct"
    assert bench.tempo_level(240.0, 120.0) == "octave"
    assert bench.tempo_level(61.0, 120.0) == "octave"
    assert bench.tempo_level(180.0, 120.0) == "other_metrical"
    assert bench.tempo_level(100.0, 120.0) == "wrong"
    assert bench.tempo_level(None, 120.0) == "wrong"


def test_degrade_adds_a_reverb_tail_and_noise_at_the_asked_level(bench):
    rng = np.random.default_rng(0)
    sample_rate = 8000
    tone = np.sin(2 * np.pi * 440 * np.arange(sample_rate) / sample_rate).astype(np.float32)
    noisy = bench.degrade(tone, sample_rate, rt60=0.5, snr_db=20.0, rng=rng)
    assert len(noisy) == len(tone) + int(0.5 * sample_rate) - 1
    assert np.isclose(np.abs(noisy).max(), 0.9, atol=1e-3)
    noise = bench.pink_noise(4096, rng)
    assert np.isclose(np.mean(noise**2), 1.0)


def test_basic_pitch_without_an_environment_gives_a_reason(bench, tmp_path):
    with pytest.raises(bench.BasicPitchUnavailable, match="setup_basic_pitch.sh"):
        bench.run_basic_pitch(None, [], tmp_path)


@needs_nottingham
def test_two_tiny_melodies_are_rendered_transcribed_and_scored(bench, tmp_path, monkeypatch):
    from genseq.music.render import fluidsynth_problem

    if fluidsynth_problem() is not None:
        pytest.skip(f"fluidsynth unavailable: {fluidsynth_problem()}")
    monkeypatch.setattr(bench, "MIN_MELODY_NOTES", 4)
    melodies = bench.choose_melodies(2, 0, (150.0, 160.0), max_seconds=4.0, max_bars=2, seed=0)
    assert [m.name for m in melodies] == [f"nottingham-{p.stem}" for p in sorted((NOTTINGHAM / "test").glob("*.mid"))[::169]][:2]
    noise = {"seed": 0, "snr_db": 20.0, "rt60_range": [0.4, 0.6]}
    renders = bench.render_all(melodies, ["piano"], tmp_path / "renders", noise)
    assert [r.condition for r in renders] == ["clean", "noisy"] * 2 and all(r.wav.is_file() for r in renders)

    rows = bench.score_all(renders, bench.run_genseq(renders), None)
    result = bench.build_result(rows, melodies, ["piano"], {}, "skipped in the test", {}, bench.machine_facts())
    result = json.loads(bench.result_json(result))

    assert result["basic_pitch_f1"] is None and result["basic_pitch_reason"] == "skipped in the test"
    assert result["renders_clean"] == result["renders_noisy"] == 2
    assert result["f1_clean"] > 0.7  # piano melodies at a steady tempo are the easy case
    assert result["realtime_factor"] > 0
    assert set(result["by_condition_and_instrument"]["noisy"]) == {"piano"}
    assert len(result["per_file"]) == 4 and result["per_file"][1]["rt60_seconds"] >= 0.4
