"""Where the bundled configs and assets live: package data in an installed wheel (genseq/configs,
genseq/assets), the checkout's configs/ and assets/ in a source tree; GENSEQ_CONFIGS and
GENSEQ_ASSETS override both."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE.parent


def bundled_dir(name: str) -> Path:
    installed = PACKAGE / name  # pyproject maps configs/ and assets/ to genseq.configs and genseq.assets
    return installed if installed.is_dir() else REPO_ROOT / name


def configs_dir() -> Path:
    return Path(os.environ.get("GENSEQ_CONFIGS") or bundled_dir("configs"))


def assets_dir() -> Path:
    return Path(os.environ.get("GENSEQ_ASSETS") or bundled_dir("assets"))


def bundled_checkpoint(filename: str) -> Path:
    """A model shipped in assets/ (what generate uses when no --checkpoint is given)."""
    from genseq.core.errors import GenseqError

    path = assets_dir() / filename
    if not path.is_file():
        raise GenseqError("bundled model is missing; pass --checkpoint", path)
    return path
