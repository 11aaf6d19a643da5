"""The CLI, the flows and batch agree with the options models on every default and bound: each
operation's fields live once, in genseq/core/options.py."""

from __future__ import annotations

import pytest
import typer

from genseq.core import options as opts
from tests.conftest import run_cli

COMMANDS = {
    ("extract", "music"): opts.ExtractMusicOptions, ("extract", "motion"): opts.ExtractMotionOptions,
    ("train", "music"): opts.TrainMusicOptions, ("train", "dance"): opts.TrainDanceOptions,
    ("generate", "music"): opts.GenerateMusicOptions, ("generate", "dance"): opts.GenerateDanceOptions,
    ("render", "music"): opts.RenderMusicOptions, ("render", "dance"): opts.RenderDanceOptions,
    ("eval", "dance"): opts.EvalDanceOptions,
    ("live",): opts.LiveOptions, ("stream", "music"): opts.StreamMusicOptions,
    ("stream", "dance"): opts.StreamDanceOptions,
}
CLI_ONLY = {"quiet", "as_json"}  # how the CLI prints, not what the operation does


def cli_command(*names: str):
    """The command at `genseq NAMES...` (a group's command, or a top-level one such as live)."""
    from genseq.cli import app

    command = typer.main.get_command(app)
    for name in names:
        command = command.commands[name]
    return command


def cli_params(command) -> dict:
    return {("set" if p.name == "set_" else p.name): p for p in command.params if p.name not in CLI_ONLY}


def model_default(info):
    default = None if info.is_required() else info.get_default(call_default_factory=True)
    return None if default == [] else default


@pytest.mark.parametrize("command_path", list(COMMANDS), ids=lambda c: " ".join(c))
def test_every_flag_is_a_field_with_the_same_default(command_path):
    model = COMMANDS[command_path]
    params = cli_params(cli_command(*command_path))
    assert set(params) == set(model.model_fields), f"flags and fields differ: {set(params) ^ set(model.model_fields)}"
    for name, param in params.items():
        default = None if param.default in ((), []) else param.default
        assert default == model_default(model.model_fields[name]), name


def bounds(info) -> dict:
    found = {}
    for item in info.metadata:
        for key in ("ge", "gt", "le", "lt"):
            if getattr(item, key, None) is not None:
                found[key] = getattr(item, key)
    return found


def just_outside(key: str, bound, integer: bool):
    """The nearest value the bound refuses."""
    step = 1 if integer else (abs(bound) * 1e-3 or 1e-3)
    return {"ge": bound - step, "gt": bound, "le": bound + step, "lt": bound}[key]


BOUND_CASES = [
    (path, name, key, value)
    for path, model in COMMANDS.items()
    for name, info in model.model_fields.items()
    for key, value in bounds(info).items()
]


@pytest.mark.parametrize("command_path,name,key,bound", BOUND_CASES,
                         ids=[f"{' '.join(c[0])} --{c[1]} {c[2]} {c[3]}" for c in BOUND_CASES])
def test_a_value_past_each_bound_is_one_clean_error(command_path, name, key, bound, capsys, tmp_path):
    model = COMMANDS[command_path]
    integer = model.model_fields[name].annotation in (int, "int") or "int" in str(model.model_fields[name].annotation)
    value = just_outside(key, bound, integer)
    flag = "--" + name.replace("_", "-")
    required = {"--out": tmp_path / "out", "--data": tmp_path, "--checkpoint": tmp_path}
    args = [*command_path]
    for option, filler in required.items():
        param = cli_params(cli_command(*command_path)).get(option[2:])
        if param is not None and param.required and option != flag:
            args += [option, filler]
    args += [a for p in cli_command(*command_path).params if p.required and p.param_type_name == "argument"
             for a in [str(tmp_path / "input")]]
    code, _, err = run_cli([*args, flag, str(int(value) if integer else value)], capsys)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith(f"genseq: error: {flag}"), err


FLOW_MODELS = {
    "flows.generate:generate_music_flow": opts.GenerateMusicOptions,
    "flows.generate_dance:generate_dance_flow": opts.GenerateDanceOptions,
    "flows.render:render_music_flow": opts.RenderMusicOptions,
    "flows.render_dance:render_dance_flow": opts.RenderDanceOptions,
    "flows.train:train_flow:music": opts.TrainMusicOptions,
    "flows.train:train_flow:dance": opts.TrainDanceOptions,
    "flows.extract:extract_music_flow": opts.ExtractMusicOptions,
    "flows.extract_motion:extract_motion_flow": opts.ExtractMotionOptions,
}


@pytest.mark.parametrize("flow_path", list(FLOW_MODELS))
def test_each_flow_form_is_its_options_model(flow_path):
    """A flow's parameters are the options model, or a subclass in which only inputs the flow can
    fill with examples are made optional; every other field has the model's default and bounds."""
    import importlib
    import inspect

    module, name, group = (flow_path.split(":") + ["params"])[:3]
    flow_obj = getattr(importlib.import_module(module), name)
    params = inspect.signature(flow_obj.fn).parameters[group].annotation
    params = getattr(importlib.import_module(module), params) if isinstance(params, str) else params
    model = FLOW_MODELS[flow_path]
    assert issubclass(params, model)
    for field_name, info in model.model_fields.items():
        flow_info = params.model_fields[field_name]
        if flow_info.is_required() or info.is_required():
            continue
        assert model_default(flow_info) == model_default(info), field_name
        assert bounds(flow_info) == bounds(info), field_name
