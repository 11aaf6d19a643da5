"""Prefect progress and report artifacts for the genseq flows (UI glue only, no stage logic).

Pictures go into markdown artifacts as data: URIs (downscaled PNGs), which the Prefect UI
shows inline with no file server and keeps after the files move. Links to the files, and
audio / video players, point at the media file server `genseq serve` runs
($GENSEQ_FILES_URL for files under $GENSEQ_FILES_ROOT); without it they are file:// links.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import Callable, Iterable

from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact

from genseq.service.files import file_url

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif"}
PREVIEW_WIDTH = 960          # pixels: wider pictures are scaled down for the artifact
MAX_IMAGE_BYTES = 400_000    # per embedded picture, after scaling
MAX_IMAGES = 12              # per artifact; the rest are listed and linked only


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


def progress_with_total(description: str) -> Callable[[int, int], None]:
    """A callback(done, total) for stages that learn their total as they go (motion extraction):
    one artifact from 0 to 100%, counting thousandths of the total known so far."""
    state: dict = {"report": None}

    def progress(done: int, total: int) -> None:
        if state["report"] is None:
            state["report"] = progress_reporter(description, 1000)
        state["report"](round(done * 1000 / total) if total else 0)

    return progress


def image_data_uri(path: Path) -> str | None:
    """A PNG data: URI of the picture, scaled to PREVIEW_WIDTH at most; None if it cannot be read or is too big."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        return None
    height, width = image.shape[:2]
    if width > PREVIEW_WIDTH:
        image = cv2.resize(image, (PREVIEW_WIDTH, max(1, round(height * PREVIEW_WIDTH / width))), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".png", image)
    if not ok or len(encoded) > MAX_IMAGE_BYTES:
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if not ok or len(encoded) > MAX_IMAGE_BYTES:
            return None
        return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode()
    return "data:image/png;base64," + base64.b64encode(encoded.tobytes()).decode()


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


def labeller(paths: list[Path]) -> Callable[[Path], str]:
    """Names that tell files apart: the path below the folders all of them share (batch outputs
    are all sample_000.* in different folders)."""
    folders = {str(p.resolve().parent) for p in paths}
    if len(folders) <= 1:
        return lambda path: path.name
    base = Path(os.path.commonpath(list(folders)))
    return lambda path: path.resolve().relative_to(base).as_posix()


def served(url: str) -> bool:
    return url.startswith("http")


def outputs_markdown(title: str, paths: Iterable[str | Path], note: str = "") -> str:
    """Markdown: a table of the files (link, size, full path), then each picture inline and
    a player for each sound or video the media server can serve."""
    paths = [Path(p) for p in paths]
    label = labeller(paths)
    lines = [f"# {title}", ""]
    if note:
        lines += [note, ""]
    lines += ["| file | size | path |", "|---|---|---|"]
    for path in paths:
        size = human_size(path.stat().st_size) if path.is_file() else "missing"
        lines.append(f"| [{label(path)}]({file_url(path)}) | {size} | `{path.resolve()}` |")
    lines.append("")
    players = []
    for path in paths:
        url = file_url(path)
        suffix = path.suffix.lower()
        if served(url) and suffix == ".wav":
            players.append(f"**{html.escape(label(path))}**\n\n<audio controls preload=\"none\" src=\"{url}\"></audio>\n")
        elif served(url) and suffix in (".mp4", ".mov"):
            players.append(f"**{html.escape(label(path))}**\n\n<video controls preload=\"metadata\" width=\"480\" "
                           f"src=\"{url}\"></video>\n")
    if players:
        lines += ["## Listen and watch", ""] + players
    pictures = [p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    if pictures:
        lines += ["## Pictures", ""]
        for index, path in enumerate(pictures):
            uri = image_data_uri(path) if index < MAX_IMAGES else None
            if uri is None:
                lines.append(f"- [{label(path)}]({file_url(path)}) (not shown inline)")
            else:
                lines += [f"**{label(path)}**", "", f"![{path.name}]({uri})", ""]
    if not os.environ.get("GENSEQ_FILES_URL"):
        lines += ["", ("_Links are file:// paths: run flows under `genseq serve` to get links and players that "
                       "open from the UI._")]
    return "\n".join(lines)


def publish_outputs(title: str, paths: list[Path], key: str | None = None, note: str = "") -> None:
    create_markdown_artifact(markdown=outputs_markdown(title, paths, note), key=key, description=title)


def publish_table(rows: list[dict], description: str, key: str | None = None) -> None:
    if rows:
        create_table_artifact(table=rows, key=key, description=description)
