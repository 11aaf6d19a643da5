"""Prefect tasks over the genseq stages, cached on what they read.

Cache key of a stage task = SHA-256 of
  - the task's name and source (Prefect's TASK_SOURCE policy) and a digest of genseq's source
    code (every .py file of the package, read once per process), so a code change runs it again,
  - the content of every input file it reads (files by their bytes, folders by every file's
    relative name and bytes; see genseq.service.files.content_digest),
  - every other parameter (output paths as absolute paths, options),
so renaming or touching an input changes nothing, editing its bytes or any option runs the
task again. Results (the list of written paths, small reports) are persisted under
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


def content_cache(*input_params: str) -> CachePolicy:
    """Key on the content of the files named by `input_params` plus every other parameter."""

    def key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
        files = {}
        for name in input_params:
            value = parameters.get(name)
            values = value if isinstance(value, (list, tuple)) else [value]
            files[name] = content_digest([None if v in (None, "") else Path(v) for v in values])
        options = {name: value for name, value in parameters.items() if name not in input_params}
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


def stage_task(*input_params: str, name: str) -> Callable:
    return task(name=name, cache_policy=content_cache(*input_params), persist_result=True, retries=RETRIES,
                retry_delay_seconds=RETRY_DELAY_S, retry_condition_fn=retry_transient)


def absolute(path: str | Path | None) -> str | None:
    return None if path in (None, "") else str(Path(path).expanduser().resolve())


def output_paths(result: Any) -> Iterable[Path]:
    if isinstance(result, dict):
        result = result.get("written", [])
    if isinstance(result, (str, Path)):
        result = [result]
    return [Path(p) for p in result or []]


def cached(task_obj, **parameters):
    """Call a stage task; when the cache answers with files that no longer exist, run it again."""
    result = task_obj(**parameters)
    if not all(p.exists() for p in output_paths(result)):
        result = task_obj.with_options(refresh_cache=True)(**parameters)
    return result


# ---------------------------------------------------------------------------------------------
# Music


@stage_task("paths", name="extract-music-files")
def extract_music_task(paths: list[str], out: str, steps_per_quarter: int, programs: list[int],
                       include_drums: bool) -> dict:
    from flows.progress import progress_with_total
    from genseq.music.midi import InstrumentSelection
    from genseq.music.stages import extract_music

    report = extract_music(paths, out, steps_per_quarter,
                           InstrumentSelection(programs=programs, include_drums=include_drums),
                           on_file=progress_with_total("reading MIDI files and recordings"))
    return {"written": [out], "kept": report.kept, "dropped": report.dropped, "lines": report.lines()}


@stage_task("checkpoint", "primer", name="generate-music-files")
def generate_music_task(checkpoint: str, out_dir: str, primer: str | None, include_primer: bool, bars: int | None,
                        seconds: float | None, num_outputs: int, tempo: float | None, temperature: float,
                        top_k: int | None, top_p: float | None, seed: int, program: int | None, wav: bool, png: bool,
                        allow_sine: bool) -> list[str]:
    from flows.progress import progress_reporter
    from genseq.model.sample import SamplingOptions
    from genseq.music.stages import GenerateOptions, generate_and_render

    options = GenerateOptions(primer, include_primer, bars, seconds, num_outputs, tempo,
                              SamplingOptions(temperature, top_k, top_p, seed), program)
    steps = {"total": None}

    def progress(done: int) -> None:  # sampling steps; the total is known after the first call's model load
        if steps["total"] is None:
            steps["total"] = progress_reporter(f"sampling {num_outputs} piece(s)", max(1, expected_steps(checkpoint, options)))
        steps["total"](done)

    paths = generate_and_render(checkpoint, out_dir, options, wav, png, allow_sine, progress=progress)
    return [str(p) for p in paths]


def expected_steps(checkpoint: str, options) -> int:
    """Roughly how many sampling steps a generation takes (for the progress bar only)."""
    try:
        from genseq.model.checkpoint import load_checkpoint

        spq = int(load_checkpoint(checkpoint, kind="music")["config"]["steps_per_quarter"])
    except Exception:  # (a progress bar must never fail a run)
        spq = 4
    if options.seconds is not None:
        return round(options.seconds * (options.tempo or 120.0) / 60.0 * spq)
    return (options.bars or 8) * 4 * spq


@stage_task("midi", name="render-music-files")
def render_music_task(midi: str, wav: str | None, png: str | None, allow_sine: bool) -> list[str]:
    from genseq.music.render import render_music

    return [str(p) for p in render_music(midi, wav, png, allow_sine)]


# ---------------------------------------------------------------------------------------------
# Dance


@stage_task("paths", name="extract-motion-files")
def extract_motion_task(paths: list[str], out: str, fps: float, smoothing: float) -> list[str]:
    from flows.progress import progress_with_total
    from genseq.motion.stages import extract_motion

    written = extract_motion(paths, out, fps, smoothing, progress_with_total("extracting motion (frames)"))
    return [str(p) for p in written]


@stage_task("checkpoint", "primer", name="generate-dance-files")
def generate_dance_task(checkpoint: str, out: str, primer: str | None, seconds: float, seed: int, temperature: float,
                        num_outputs: int, keypoints_out: str | None, size: int, camera: str, preview: bool) -> list[str]:
    from flows.progress import progress_reporter
    from genseq.motion.render import render_preview
    from genseq.motion.stages import DanceGenerateOptions, generate_dance, numbered, write_dance_outputs

    options = DanceGenerateOptions(Path(primer) if primer else None, seconds, seed, temperature, num_outputs)
    report = progress_reporter(f"sampling {num_outputs} dance(s) of {seconds:g} s", max(1, round(seconds * 30)))
    clips = generate_dance(checkpoint, options, progress=report)
    written = write_dance_outputs(clips, Path(out), Path(keypoints_out) if keypoints_out else None,
                                  {"size": size, "camera": camera})
    if preview:
        written += [render_preview(clip, numbered(Path(out).with_suffix(".png"), index, len(clips)), camera=camera)
                    for index, clip in enumerate(clips)]
    return [str(p) for p in written]


@stage_task("clip", "side_by_side", "audio", name="render-dance-files")
def render_dance_task(clip: str, out: str | None, preview: str | None, size: int, camera: str,
                      side_by_side: str | None, audio: str | None) -> list[str]:
    from genseq.motion.render import render_clip_file

    paths = render_clip_file(clip, out, preview, size=size, camera=camera, side_by_side_video=side_by_side, audio=audio)
    return [str(p) for p in paths]
