"""The one loader: a checkpoint (a file, or a run folder's best) as the model it holds, on a device,
together with the representation it was trained on, checked to fit each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from genseq.core.config import ModelConfig
from genseq.core.domain import Domain
from genseq.core.errors import GenseqError
from genseq.core.resources import check_model_memory
from genseq.model.checkpoint import load_checkpoint
from genseq.model.recurrent import StackedRecurrent, pick_device


@dataclass
class LoadedModel:
    model: StackedRecurrent
    representation: Any
    payload: dict

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def path(self) -> str:
        return self.payload["path"]


def build_model(fields: dict) -> StackedRecurrent:
    """The model that a spec's fields (or a checkpoint payload) describe: config["model"] is its ModelConfig."""
    config = ModelConfig.model_validate(fields["config"]["model"])
    check_model_memory(config, fields["input_size"], fields["output_size"])  # before allocating
    return StackedRecurrent(config, fields["input_size"], fields["output_size"], fields.get("head"))


def load_model(checkpoint: str | Path, domain: Domain, device: str | None = None) -> LoadedModel:
    """The model a checkpoint of the domain holds, on `device` (default: the GPU when there is one), and
    the representation it recorded; refused when the file, the model and the representation do not fit."""
    payload = load_checkpoint(checkpoint, kind=domain.kind)
    try:
        model = build_model(payload)
        model.load_state_dict(payload["state_dict"])
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise GenseqError(f"checkpoint does not match its recorded config ({type(exc).__name__})", payload["path"]) from None
    try:
        representation = domain.from_metadata(payload["representation"])
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise GenseqError(f"checkpoint's representation is unreadable ({type(exc).__name__})", payload["path"]) from None
    recorded = payload.get("value_size")
    if recorded is not None and recorded != representation.value_size:
        raise GenseqError("checkpoint's model does not match its representation (value size)", payload["path"])
    return LoadedModel(model.to(pick_device(device)), representation, payload)
