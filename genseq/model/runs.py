"""What every domain's run shares: the run folder's record (data.json, config.yaml) and loading a
trained model together with the representation it was trained on. Domains pass their own pieces."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from genseq.core.atomic import atomic_write_text, ensure_writable_dir
from genseq.core.errors import GenseqError
from genseq.model.checkpoint import LAST
from genseq.model.train import load_trained_model

DATA_RECORD, CONFIG_RECORD = "data.json", "config.yaml"
# what must match for a run folder to be resumed: the same split (it names the seed) of the same pieces;
# the data path itself may be written another way (relative, absolute) and is not compared
RESUME_KEYS = ("split", "train", "valid")


@dataclass
class LoadedModel:
    model: torch.nn.Module
    representation: Any
    payload: dict

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def load_model(checkpoint: str | Path, kind: str, from_metadata: Callable[[dict], Any],
               device: str | None = None) -> LoadedModel:
    """The model a checkpoint of `kind` holds and its representation (from_metadata of the recorded
    metadata), refused when the two do not fit together."""
    model, payload = load_trained_model(checkpoint, kind, device)
    try:
        representation = from_metadata(payload["representation"])
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise GenseqError(f"checkpoint's representation is unreadable ({type(exc).__name__})", payload["path"]) from None
    recorded = payload.get("value_size")
    if recorded is not None and recorded != representation.value_size:
        raise GenseqError("checkpoint's model does not match its representation (value size)", payload["path"])
    return LoadedModel(model, representation, payload)


def start_run(out: str | Path, record: dict, config_yaml: str) -> Path:
    """Make the run folder and record what the run learns from (data.json) and its resolved config
    (config.yaml). Resuming a run (last.pt present) on other data, another split or seed is refused."""
    out = ensure_writable_dir(out)
    previous = read_record(out / DATA_RECORD) if (out / LAST).exists() else None
    if previous is not None:
        changed = [key for key in RESUME_KEYS if key in previous and previous.get(key) != record.get(key)]
        if changed:
            raise GenseqError(f"run folder holds a run on other {', '.join(changed)} (see its {DATA_RECORD}); "
                              "use a new --out folder or the same data and seed", out)
    atomic_write_text(out / DATA_RECORD, json.dumps(record, indent=1))
    atomic_write_text(out / CONFIG_RECORD, config_yaml)
    return out


def read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None
