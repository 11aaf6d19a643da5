"""The run folder's record, the same for every domain: what the run learns from (data.json) and its
resolved config (config.yaml); resuming is refused on other data or another split."""

from __future__ import annotations

import json
from pathlib import Path

from genseq.core.atomic import atomic_write_text, ensure_writable_dir
from genseq.core.errors import GenseqError
from genseq.model.checkpoint import LAST

DATA_RECORD, CONFIG_RECORD = "data.json", "config.yaml"
# what must match for a run folder to be resumed: the same split (it names the seed) of the same pieces;
# the data path itself may be written another way (relative, absolute) and is not compared
RESUME_KEYS = ("split", "train", "valid")


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
