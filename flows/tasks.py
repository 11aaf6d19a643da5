"""Prefect tasks over the genseq stages, cached on what they read.

Cache key of a stage task = SHA-256 of
  - the task's name and source (Prefect's TASK_SOURCE policy) and a digest of genseq's source
    code (every .py file of the package, read once per process), so a code change runs it again,
  - the content of every input file it reads (files by their bytes, folders by every file's
    relative name and bytes; see genseq.service.files.content_digest),
  - every other parameter (output paths as absolute paths, options),
so renaming or touching an input changes nothing, editing its bytes or any option runs the
task again. Results (the list of written paths, small reports) are persisted as JSON (never pickle) under
PREFECT_HOME/storage; a hit whose output files are gone runs again (`cached`).

Retries: only where a retry can help. A GenseqError is bad input or a bad option (a retry
gives the same answer): never retried. I/O hiccups (EIO, EAGAIN, EBUSY, ETIMEDOUT, ESTALE)
and timeouts are retried twice.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Iterable

from prefect import task
from prefect.cache_policies import TASK_SOURCE, CachePolicy, CacheKeyFnPolicy
from prefect.context import TaskRunContext

import genseq
from genseq.core.transient import is_transient
from genseq.service.files import content_digest, sha256_file, stable_digest

RETRIES = 2
RETRY_DELAY_S = 3


def content_cache(*input_fields: str) -> CachePolicy:
    """Key on the content of the files named by `input_fields` of the task's options plus every option (a
    field that may name a file or not, as a background "R,G,B" or a picture, keys on both)."""

    def key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
        options = dict(parameters["options"])
        files = {}
        for name in input_fields:
            value = options.get(name)
            values = value if isinstance(value, (list, tuple)) else [value]
            files[name] = content_digest([None if v in (None, "") else Path(v) for v in values])
        return stable_digest({"task": context.task.name, "genseq": genseq_source_digest(), "inputs": files,
                              "options": options})

    return CacheKeyFnPolicy(cache_key_fn=key) + TASK_SOURCE


@functools.cache
def genseq_source_digest() -> str:
    """SHA-256 over the relative name and content digest of every .py file of the genseq package (about 15 ms)."""
    package = Path(genseq.__file__).parent
    return stable_digest({path.relative_to(package).as_posix(): sha256_file(path) for path in sorted(package.rglob("*.py"))})


def retry_transient(task_obj, task_run, state) -> bool:
    """Prefect retry condition: retry I/O hiccups, never bad input."""
    error = state.data if isinstance(state.data, BaseException) else None
    return error is not None and is_transient(error)


def stage_task(*input_fields: str, name: str) -> Callable:
    """A task over one genseq stage taking `options` (an options model as a JSON-able dict)."""
    return task(name=name, cache_policy=content_cache(*input_fields), persist_result=True, result_serializer="json",
                retries=RETRIES, retry_delay_seconds=RETRY_DELAY_S, retry_condition_fn=retry_transient)


def absolute(path: str | Path | None) -> str | None:
    return None if path in (None, "") else str(Path(path).expanduser().resolve())


def task_options(options, *path_fields: str) -> dict:
    """The options as a JSON-able dict with every path field absolute (cache keys see where files are)."""
    values = options.model_dump(mode="json")
    for name in path_fields:
        value = values.get(name)
        values[name] = [absolute(v) for v in value] if isinstance(value, list) else absolute(value)
    return values


def output_paths(result: Any) -> Iterable[Path]:
    if isinstance(result, dict):
        result = result.get("written", [])
    if isinstance(result, (str, Path)):
        result = [result]
    return [Path(p) for p in result or []]


def cached(task_obj, options: dict):
    """Call a stage task; when the cache answers with files that no longer exist, run it again."""
    result = task_obj(options=options)
    if not all(p.exists() for p in output_paths(result)):
        result = task_obj.with_options(refresh_cache=True)(options=options)
    return result


# ---------------------------------------------------------------------------------------------
# Music


@stage_task("paths", name="extract-music-files")
def extract_music_task(options: dict) -> dict:
    from flows.progress import progress_with_total
    from genseq.core.options import ExtractMusicOptions
    from genseq.music.extract import extract_music

    report, written = extract_music(ExtractMusicOptions.model_validate(options),
                                    on_file=progress_with_total("reading MIDI files and recordings"))
    return {"written": [str(written)], "kept": report.kept, "dropped": report.dropped, "lines": report.lines()}


@stage_task("checkpoint", "primer", name="generate-music-files")
def generate_music_task(options: dict) -> list[str]:
    from flows.progress import progress_with_total
    from genseq.core.options import GenerateMusicOptions
    from genseq.music.generate import generate_and_render

    validated = GenerateMusicOptions.model_validate(options)
    paths = generate_and_render(validated, progress_with_total(f"sampling {validated.num_outputs} piece(s)"))
    return [str(p) for p in paths]


@stage_task("midi", name="render-music-files")
def render_music_task(options: dict) -> list[str]:
    from genseq.core.options import RenderMusicOptions
    from genseq.music.render import render_music

    return [str(p) for p in render_music(RenderMusicOptions.model_validate(options))]


# ---------------------------------------------------------------------------------------------
# Dance


@stage_task("paths", name="extract-motion-files")
def extract_motion_task(options: dict) -> list[str]:
    from flows.progress import progress_with_total
    from genseq.core.options import ExtractMotionOptions
    from genseq.motion.extract import extract_motion

    validated = ExtractMotionOptions.model_validate(options)
    written = extract_motion(validated.paths, validated.out, validated.fps, validated.smoothing,
                             progress_with_total("extracting motion (frames)"))
    return [str(p) for p in written]


@stage_task("checkpoint", "primer", "music", "background", name="generate-dance-files")
def generate_dance_task(options: dict) -> list[str]:
    from flows.progress import progress_with_total
    from genseq.core.options import GenerateDanceOptions
    from genseq.compose.dance_to_music import make_dance

    validated = GenerateDanceOptions.model_validate(options)
    progress = progress_with_total(f"sampling {validated.num_outputs} dance(s) of {validated.seconds:g} s")
    return [str(p) for p in make_dance(validated, progress)]


@stage_task("clip", "side_by_side", "audio", "background", name="render-dance-files")
def render_dance_task(options: dict) -> list[str]:
    from genseq.core.options import RenderDanceOptions
    from genseq.motion.render import render_dance

    return [str(p) for p in render_dance(RenderDanceOptions.model_validate(options))]
