"""Memory estimates before allocation: exact parameter counts, refusals that name the key."""

import pytest

from genseq.core.config import ModelConfig, TrainConfig
from genseq.core.errors import GenseqError
from genseq.core.resources import (ENV, check_model_memory, check_render_memory, machine_memory, memory_limit,
                                   parameter_count, parse_memory, set_max_memory)


@pytest.mark.parametrize("fields", [{}, {"head": "nade"}, {"cell": "gru", "input_to_all_layers": False},
                                    {"cell": "rnn", "num_layers": 1, "hidden_size": 17}])
def test_parameter_count_is_exact(fields):
    from genseq.model.recurrent import StackedRecurrent, count_parameters

    config = ModelConfig(**fields)
    assert parameter_count(config, 40, 90) == count_parameters(StackedRecurrent(config, 40, 90))


@pytest.mark.parametrize("model, train, key", [
    ({"hidden_size": 100_000}, {}, "model.hidden_size"),
    ({"num_layers": 100_000}, {}, "model.num_layers"),
    ({"head": "nade", "nade_hidden": 10**7}, {}, "model.nade_hidden"),
    ({}, {"batch_size": 100_000, "seq_len": 10_000}, "train.batch_size"),
])
def test_huge_configs_are_refused_naming_the_key(model, train, key, monkeypatch):
    monkeypatch.setenv(ENV, "8G")
    with pytest.raises(GenseqError) as info:
        check_model_memory(ModelConfig(**model), 40, 90, TrainConfig(**train))
    message = str(info.value)
    assert message.startswith(f"{key}: needs about") and "limit 8.59 GB" in message and "--max-memory" in message


def test_defaults_fit_and_sampling_needs_less_than_training():
    sampling = check_model_memory(ModelConfig(), 40, 90)
    training = check_model_memory(ModelConfig(), 40, 90, TrainConfig())
    assert 1e6 < sampling < training < 2e9


def test_limits_from_option_env_and_machine(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    limit, source = memory_limit()
    assert limit == machine_memory() // 2 and "half" in source
    monkeypatch.setenv(ENV, "512M")
    assert memory_limit() == (512 << 20, ENV)
    set_max_memory("2GiB")
    try:
        assert memory_limit() == (2 << 30, "--max-memory")
    finally:
        set_max_memory(None)
    assert parse_memory("50%", "x") == int(machine_memory() * 0.5) and parse_memory(10**9, "x") == 10**9


@pytest.mark.parametrize("value", ["lots", "-1G", "12Q", "", "0.1k"])
def test_bad_limits_name_their_source(value, monkeypatch):
    monkeypatch.setenv(ENV, value or " x")
    with pytest.raises(GenseqError, match=f"^{ENV}: "):
        memory_limit()
    with pytest.raises(GenseqError, match="^--max-memory: "):
        set_max_memory(value or "x")


def test_render_sizes(monkeypatch):
    monkeypatch.setenv(ENV, "4G")
    assert check_render_memory(512) < 1e7
    with pytest.raises(GenseqError, match=r"^--size: 100000 x 100000 frames need about 120 GB"):
        check_render_memory(100_000)


# -- the thread budget

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from genseq.core import resources  # noqa: E402


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """A private folder of runs in flight and no inherited policy; torch's threads restored after."""
    import torch

    monkeypatch.setattr(resources, "runs_folder", lambda: tmp_path)
    monkeypatch.setattr(resources, "_budget", {"registered": None, "checked": 0.0, "applied": None})
    for name in (resources.THREADS_ENV, resources.POLICY_ENV):
        monkeypatch.delenv(name, raising=False)
    before = torch.get_num_threads()
    yield tmp_path
    torch.set_num_threads(before)


def test_the_budget_shares_the_cores_among_the_runs_in_flight(runs, monkeypatch):
    assert resources.budget_threads(runs=1, cores=2) is None  # no policy: the process keeps its own threads
    monkeypatch.setenv(resources.POLICY_ENV, "auto")
    assert [resources.budget_threads(runs=n, cores=2) for n in (0, 1, 2, 3)] == [2, 2, 1, 1]
    assert resources.budget_threads(runs=2, cores=8) == 4
    monkeypatch.setenv(resources.THREADS_ENV, "3")
    assert resources.budget_threads(runs=2, cores=2) == 3


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_names_its_variable(runs, monkeypatch, value):
    monkeypatch.setenv(resources.THREADS_ENV, value)
    with pytest.raises(GenseqError, match=f"^{resources.THREADS_ENV}: not a number of threads"):
        resources.apply_thread_budget()


def test_runs_in_flight_are_live_processes_only(runs):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    (runs / str(ended.pid)).write_text("12345")
    (runs / "not-a-pid").write_text("x")
    assert resources.runs_in_flight() == 0 and not (runs / str(ended.pid)).exists()
    resources.register_run()
    assert (runs / str(os.getpid())).exists() and resources.runs_in_flight() == 1
    (runs / str(os.getpid())).write_text("an earlier process with this pid")
    assert resources.runs_in_flight() == 0


def test_model_work_applies_the_budget_and_counts_the_run(runs, monkeypatch):
    import torch

    from genseq.core.config import ModelConfig
    from genseq.model.recurrent import StackedRecurrent

    resources.apply_thread_budget(1)
    assert torch.get_num_threads() == 1 and os.environ[resources.POLICY_ENV] == "1"
    monkeypatch.setenv(resources.POLICY_ENV, "auto")
    (runs / str(os.getpid())).unlink()
    resources._budget.update(registered=None, checked=0.0)
    StackedRecurrent(ModelConfig(hidden_size=4, num_layers=1), 3, 3)(torch.zeros(1, 2, 3))
    assert (runs / str(os.getpid())).exists()
    assert torch.get_num_threads() == resources.usable_cores() // resources.runs_in_flight()


def test_the_cli_refuses_a_bad_thread_count_in_one_line(tmp_path):
    env = {**os.environ, resources.THREADS_ENV: "lots"}
    done = subprocess.run([sys.executable, "-m", "genseq.cli", "--help"], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip() == (
        f"genseq: error: {resources.THREADS_ENV}: not a number of threads: 'lots' (a whole number, 1 or more)")
