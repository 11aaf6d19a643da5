"""Evaluate a music model on held-out pieces: NLL per frame under the benchmark protocol (the first
frame of each piece is not predicted); for melodies also NLL per note-on event and accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genseq.core.errors import GenseqError
from genseq.model.load import load_model
from genseq.model.train import step_losses_of
from genseq.music.domain import MUSIC, read_pieces
from genseq.music.encode import FIRST_PITCH_EVENT


def evaluate_music(checkpoint: str | Path, data: str | Path, device: str | None = None) -> dict:
    """The checkpoint's NLL on data (a folder with a test/ subfolder is evaluated on test/)."""
    loaded = load_model(checkpoint, MUSIC, device)
    data = Path(data)
    if not data.exists():
        raise GenseqError("no such data file or folder", data)
    target = data / "test" if data.is_dir() and (data / "test").is_dir() else data
    sequences, report = read_pieces(target, loaded.representation.steps_per_quarter)
    pieces = [loaded.representation.encode(s) for s in sequences]
    results = step_losses_of(loaded.model, pieces, loaded.representation.head, loaded.device)
    total = float(sum(losses.sum() for losses, _ in results))
    frames = int(sum(len(losses) for losses, _ in results))
    metrics = {
        "checkpoint": loaded.path, "data": str(target), "representation": loaded.representation.name,
        "pieces": len(pieces), "dropped": len(report.dropped), "frames": frames, "nll_per_frame": total / frames,
    }
    if loaded.representation.head == "categorical":
        targets = np.concatenate([p.targets for p in pieces])
        predictions = np.concatenate([pred for _, pred in results])
        events = int((targets >= FIRST_PITCH_EVENT).sum())
        metrics.update({
            "events": events, "nll_per_event": total / max(events, 1),
            "accuracy": float((predictions == targets).mean()),
            "event_accuracy": float((predictions == targets)[targets >= FIRST_PITCH_EVENT].mean()) if events else None,
        })
    return metrics
