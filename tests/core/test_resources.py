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
