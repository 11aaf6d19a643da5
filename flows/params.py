"""Flow parameters built from the library's options models (genseq/core/options.py), so the Prefect
UI form shows the same fields, defaults and bounds as the CLI and batch. A flow may let an input
be empty (then it runs on example data); that is the only difference, and it is made here."""

from __future__ import annotations

import copy
from typing import Any, Optional

from pydantic import Field, create_model


def flow_params(options_model: type, **example_inputs: str) -> type:
    """options_model with each named input made optional: empty means the example described."""
    fields: dict[str, Any] = {}
    for name, description in example_inputs.items():
        annotation = options_model.model_fields[name].annotation
        if getattr(annotation, "__origin__", None) is list:
            fields[name] = (annotation, Field(default_factory=list, description=description))
        else:
            fields[name] = (Optional[annotation], Field(None, description=description))
    return create_model(f"{options_model.__name__.removesuffix('Options')}Params", __base__=options_model, **fields)


def to_options(options_model: type, params, **filled: Any):
    """The params as the library's options, with empty inputs filled in (by the flow, from examples)."""
    return options_model.model_validate({**params.model_dump(), **filled})


def picked(options_model: type, *names: str, **defaults: Any) -> dict[str, Any]:
    """Fields of an options model, for create_model: their bounds and help as they are, a default
    changed only where named in `defaults` (a pipeline's quick-run defaults)."""
    fields = {}
    for name in names:
        info = options_model.model_fields[name]
        field_info = copy.copy(info)
        if name in defaults:
            field_info.default = defaults[name]
        fields[name] = (info.annotation, field_info)
    return fields
