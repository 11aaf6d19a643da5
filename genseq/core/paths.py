"""Where the bundled configs and assets live (the repository checkout; overridable)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def configs_dir() -> Path:
    return Path(os.environ.get("GENSEQ_CONFIGS", REPO_ROOT / "configs"))


def assets_dir() -> Path:
    return Path(os.environ.get("GENSEQ_ASSETS", REPO_ROOT / "assets"))
