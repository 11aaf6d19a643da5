"""Batch rows agree with the options models (genseq/core/options.py) on every default and bound: a row's
parameters are the operation's options but for the fields the row's columns and the batch give."""

from __future__ import annotations

import pytest

from genseq.core import options as opts
from genseq.service.manifest import ROW_FIELDS, DanceParameters, MusicParameters, plan_batch

KINDS = {"music": (MusicParameters, opts.GenerateMusicOptions, set()),
         "dance": (DanceParameters, opts.GenerateDanceOptions, {"keypoints_out"})}
ROW_ONLY = {"dance": {"keypoints"}, "music": set()}  # a flag the row has where the options have a path


def bounds(info) -> dict:
    return {key: getattr(item, key) for item in info.metadata for key in ("ge", "gt", "le", "lt")
            if getattr(item, key, None) is not None}


@pytest.mark.parametrize("kind", KINDS)
def test_row_parameters_are_the_options_fields_with_their_defaults_and_bounds(kind):
    parameters, options, dropped = KINDS[kind]
    expected = set(options.model_fields) - set(ROW_FIELDS) - dropped
    assert set(parameters.model_fields) == expected | ROW_ONLY[kind]
    for name in expected:
        theirs, ours = options.model_fields[name], parameters.model_fields[name]
        assert ours.get_default(call_default_factory=True) == theirs.get_default(call_default_factory=True), name
        assert bounds(ours) == bounds(theirs), name
        assert ours.annotation == theirs.annotation, name


CASES = [(kind, name, key, bound) for kind, (parameters, _, _) in KINDS.items()
         for name, info in parameters.model_fields.items() for key, bound in bounds(info).items()]


@pytest.mark.parametrize("kind,name,key,bound", CASES, ids=[f"{c[0]} {c[1]} {c[2]} {c[3]}" for c in CASES])
def test_a_row_past_each_bound_fails_naming_the_parameter(tmp_path, kind, name, key, bound):
    integer = "int" in str(KINDS[kind][0].model_fields[name].annotation)
    step = 1 if integer else (abs(bound) * 1e-3 or 1e-3)
    value = {"ge": bound - step, "gt": bound, "le": bound + step, "lt": bound}[key]
    output = "clip.mp4" if kind == "dance" else "songs"
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"- {{kind: {kind}, output: {output}, parameters: {{{name}: {value!r}}}}}\n")
    plan = plan_batch(manifest, tmp_path / "root")
    assert not plan.jobs and plan.rejected[0].reason.startswith(f"{name}: "), plan.rejected[0].reason
