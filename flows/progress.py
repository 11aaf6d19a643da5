"""Prefect progress and report artifacts for the genseq flows (UI glue only, no stage logic)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact


def progress_reporter(description: str, total: int) -> Callable[[int], None]:
    """A callback(done) that moves a Prefect progress artifact from 0 to 100%."""
    artifact_id = create_progress_artifact(progress=0.0, description=description)
    last = {"percent": 0.0}

    def report(done: int) -> None:
        percent = round(100.0 * min(done, total) / max(total, 1), 1)
        if percent >= last["percent"] + 5 or done >= total:  # a few updates, not one per step
            update_progress_artifact(artifact_id=artifact_id, progress=percent)
            last["percent"] = percent

    return report


def publish_outputs(title: str, paths: list[Path], key: str | None = None) -> None:
    lines = [f"# {title}", ""] + [f"- `{Path(p).resolve()}`" for p in paths]
    create_markdown_artifact(markdown="\n".join(lines), key=key, description=title)


def publish_table(rows: list[dict], description: str, key: str | None = None) -> None:
    if rows:
        create_table_artifact(table=rows, key=key, description=description)
