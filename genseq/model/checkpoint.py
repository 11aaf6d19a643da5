"""Checkpoints: a state_dict plus the full config that built it, loaded with weights_only=True.

A run folder holds ``best.pt`` (lowest validation loss) and ``last.pt`` (the last finished
epoch, with optimiser state, for resuming). Anything that asks for a checkpoint accepts a
file or a run folder (then its best checkpoint).
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from genseq.core.atomic import atomic_path
from genseq.core.errors import GenseqError

FORMAT = "genseq-checkpoint-1"
BEST, LAST = "best.pt", "last.pt"


def save_checkpoint(path: str | Path, payload: dict) -> Path:
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **payload}, tmp)
    return Path(path)


def resolve_checkpoint(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        for name in (BEST, LAST):
            if (path / name).is_file():
                return path / name
        raise GenseqError(f"run folder has no {BEST} or {LAST}", path)
    if not path.is_file():
        raise GenseqError("no such checkpoint file or run folder", path)
    return path


def load_checkpoint(path: str | Path, kind: str | None = None, map_location: str | torch.device = "cpu") -> dict:
    """Load safely (no arbitrary unpickling); check it is a genseq checkpoint of the expected kind."""
    path = resolve_checkpoint(path)
    if path.stat().st_size == 0:
        raise GenseqError("empty checkpoint file (0 bytes)", path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise GenseqError(f"not a readable checkpoint (truncated, corrupt or not a safe torch file: {reason})", path) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise GenseqError("not a genseq checkpoint", path)
    if kind is not None and payload.get("kind") != kind:
        raise GenseqError(f"is a {payload.get('kind')} checkpoint, expected a {kind} checkpoint", path)
    payload["path"] = str(path)
    return payload
