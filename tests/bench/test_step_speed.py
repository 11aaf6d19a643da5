"""bench/step_speed.py on the bundled models, briefly, so the benchmark does not rot; and the claim it
records: the Sampler draws what the pre-Sampler torch path drew, step for step, on the real models."""


import pytest

from tests.bench.conftest import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("step_speed")


@pytest.mark.parametrize("name", ["melody", "pianoroll"])
def test_the_sampler_draws_what_the_torch_path_drew(bench, name, tmp_path):
    model, head, encoding = bench.load(bench.MODELS[name], tmp_path)
    inputs = bench.Inputs(encoding, 400)
    sampling = bench.SamplingOptions(top_p=0.95) if head == "categorical" else bench.SamplingOptions()
    assert bench.same_draws(model, head, inputs, sampling, 150) == {"steps": 150, "steps_differing": 0, "first_difference": None}


def test_paths_take_turns_and_report_percentiles(bench, tmp_path):
    model, head, encoding = bench.load(bench.MODELS["melody"], tmp_path)
    inputs = bench.Inputs(encoding, 1000)
    loops = {"bare": bench.Timed(*bench.bare_loop(model, head, inputs, 2), warm=2),
             "active": bench.Timed(*bench.sampler_loop(model, head, inputs, 2, bench.SamplingOptions(), True), warm=2)}
    times = bench.take_turns(loops, 20, 4)
    assert {name: len(t) for name, t in times.items()} == {"bare": 20, "active": 20}
    summary = bench.summary(times["active"], 2)
    assert 0 < summary["p50_us"] <= summary["p99_us"] and summary["steps_per_second"] > 0


def test_low_precision_statistics_compare_against_a_float32_noise_floor(bench, tmp_path):
    model, head, encoding = bench.load(bench.MODELS["melody"], tmp_path)
    result = bench.low_precision_statistics(model, head, encoding, bench.Inputs(encoding, 300), bench.SamplingOptions(), pieces=12, bars=4)
    assert set(result) == {"pieces", "bars", "float32_seed0_vs_float32_seed1", "float32_seed0_vs_bfloat16_seed0",
                           "float32_seed1_vs_bfloat16_seed1"}
    assert all(row["worst_distance_sd"] is None or row["worst_distance_sd"] >= 0 for row in list(result.values())[2:])
    assert result["float32_seed0_vs_float32_seed1"]["worst_statistic"]
