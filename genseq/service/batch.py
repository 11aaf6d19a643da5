"""Batch rendering from a manifest: one job per row, each row failing alone.

A manifest is YAML (a list of rows, or a mapping with a `jobs:` list) or CSV (a header row;
columns kind, checkpoint, primer, output, and either a `parameters` column holding a JSON
object or `key=value;key=value`, or one extra column per parameter). A row:

    kind: music | dance
    checkpoint: a checkpoint file or run folder; empty for the bundled model of the kind
    primer: a MIDI file (music) or a video / BVH / .npz clip (dance) to continue; optional
    output: where the job writes, relative to the output root: a folder for music
            (sample_000.mid, .wav, .png ...), an .mp4 (or .mov) file for dance
    parameters: see MusicParameters and DanceParameters (unknown keys are errors)

Relative checkpoint and primer paths are read relative to the manifest's folder. Outputs
can never land outside the output root (absolute paths, '..' and symlinks that lead out are
rejected), and two rows cannot share an output.

A job is complete when its record `.<output name>.genseq-job.json` (beside the output,
written atomically after every output file) names the same job (kind, parameters, output,
and the content hashes of checkpoint and primer) and every file it lists still has the
recorded size and SHA-256. Complete jobs are skipped; anything else runs again.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from genseq.core.atomic import atomic_write_text
from genseq.core.errors import GenseqError
from genseq.service.files import content_digest, inside_root, sha256_file, stable_digest

RECORD_SUFFIX = ".genseq-job.json"
VIDEO_SUFFIXES = (".mp4", ".mov")
MEDIA_SUFFIXES = (".mid", ".midi", ".wav", ".png", ".gif", ".npz", *VIDEO_SUFFIXES)
Runner = Literal["process", "thread"]
Step = Literal["all", "generate", "audio"]


class MusicParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    representation: Literal["melody", "pianoroll"] = Field("melody", description="bundled model when no checkpoint")
    bars: Optional[int] = Field(None, ge=1, le=1024, description="length in bars (default 8)")
    seconds: Optional[float] = Field(None, gt=0, le=3600, description="length in seconds (instead of bars)")
    temperature: float = Field(1.0, ge=0)
    top_k: Optional[int] = Field(None, ge=1)
    top_p: Optional[float] = Field(None, gt=0, le=1)
    seed: int = 0
    num_outputs: int = Field(1, ge=1, le=64)
    tempo: Optional[float] = Field(None, gt=0, le=1000)
    program: Optional[int] = Field(None, ge=0, le=127)
    include_primer: bool = False
    wav: bool = True
    png: bool = True
    allow_sine: bool = Field(False, description="sine synthesis when fluidsynth is missing")


class DanceParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(10.0, gt=0, le=600)
    seed: int = 0
    temperature: float = Field(1.0, ge=0)
    num_outputs: int = Field(1, ge=1, le=16)
    size: int = Field(512, ge=16, le=2048)
    camera: Literal["follow", "fixed"] = "follow"
    keypoints: bool = Field(False, description="also save each clip as .npz beside the video")
    preview: bool = Field(True, description="also a PNG contact sheet beside the video")


class Job(BaseModel):
    """One validated manifest row (paths still as written; resolve with job_paths)."""

    model_config = ConfigDict(extra="forbid")
    row: int = Field(..., description="1-based row number in the manifest")
    kind: Literal["music", "dance"]
    checkpoint: Optional[str] = None
    primer: Optional[str] = None
    output: str
    parameters: Union[MusicParameters, DanceParameters]
    base_dir: str = Field(".", description="folder relative checkpoint/primer paths are read from")

    @model_validator(mode="before")
    @classmethod
    def parameters_of_kind(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            params = data.get("parameters") or {}
            if isinstance(params, BaseModel):
                params = params.model_dump()
            kind = data.get("kind")
            if kind not in ("music", "dance"):
                data["parameters"] = {}  # the kind is the error; say only that
            elif kind == "music":
                data["parameters"] = MusicParameters.model_validate(params)
            elif kind == "dance":
                data["parameters"] = DanceParameters.model_validate(params)
            for key in ("checkpoint", "primer"):
                if isinstance(data.get(key), str) and not data[key].strip():
                    data[key] = None
        return data

    @model_validator(mode="after")
    def output_fits_kind(self) -> "Job":
        suffix = Path(self.output).suffix.lower()
        if self.kind == "dance" and suffix not in VIDEO_SUFFIXES:
            raise ValueError(f"a dance output is a video file ending in {' or '.join(VIDEO_SUFFIXES)}, got '{self.output}'")
        if self.kind == "music" and suffix in MEDIA_SUFFIXES:
            raise ValueError(f"a music output is a folder (sample_000.mid ... go inside), got '{self.output}'")
        return self


@dataclass
class JobResult:
    row: int
    kind: str
    output: str
    status: Literal["done", "skipped", "failed", "pending"]  # pending: checked, not run yet (or next_step to run)
    reason: str = ""
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    transient: bool = False  # failed for a reason a retry may fix (I/O hiccup), not bad input
    started: float = 0.0  # time.time() when it began (comparable between worker processes)
    worker: int = 0  # id of the process that ran it
    next_step: str = ""  # a step of the job still to run (see job_steps)
    fingerprint: str = ""  # the job as its first step read it (job_fingerprint)
    steps: list[dict] = field(default_factory=list)  # each step's name, worker, started and seconds

    def to_row(self) -> dict:
        return {"row": self.row, "kind": self.kind, "output": self.output, "status": self.status,
                "why": self.reason, "files": len(self.files), "seconds": round(self.seconds, 2)}


# ---------------------------------------------------------------------------------------------
# Manifest


def read_manifest_rows(manifest: str | Path) -> list[dict]:
    """The raw rows of a YAML or CSV manifest, each with its 'row' number."""
    path = Path(manifest)
    if not path.is_file():
        raise GenseqError("no such manifest file", path)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = []
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "kind" not in [f.strip() for f in reader.fieldnames]:
            raise GenseqError("a CSV manifest needs a header row with at least 'kind' and 'output' columns", path)
        for number, record in enumerate(reader, start=1):
            rows.append({"row": number, **csv_row(record)})
        return rows
    if suffix in (".yaml", ".yml", ".json"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise GenseqError(f"not valid YAML ({str(exc).splitlines()[0]})", path) from None
        if isinstance(data, dict) and "jobs" in data:
            data = data["jobs"]
        if not isinstance(data, list):
            raise GenseqError("a YAML manifest is a list of jobs (or a mapping with a 'jobs' list)", path)
        return [{"row": number, **(item if isinstance(item, dict) else {"invalid": item})}
                for number, item in enumerate(data, start=1)]
    raise GenseqError("manifest must be .yaml, .yml or .csv", path)


def csv_row(record: dict) -> dict:
    """A CSV record as a row: the known columns, then `parameters` and every other non-empty column as parameters."""
    row: dict = {}
    parameters: dict = {}
    for key, value in record.items():
        if key is None:  # more cells than header columns
            row["invalid"] = f"{len(value)} cell(s) beyond the header"
            continue
        key = key.strip()
        value = (value or "").strip()
        if key in ("kind", "checkpoint", "primer", "output"):
            row[key] = value
        elif key == "parameters":
            if value:
                parameters.update(parse_parameters(value))
        elif value:
            parameters[key] = yaml.safe_load(value)  # "3" -> 3, "true" -> True, "0.9" -> 0.9
    row["parameters"] = parameters
    return row


def parse_parameters(text: str) -> dict:
    """A JSON object, or key=value pairs separated by ';'."""
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return {"__invalid__": f"parameters is not valid JSON ({exc.msg})"}
        return value if isinstance(value, dict) else {"__invalid__": "parameters must be an object"}
    out = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep:
            return {"__invalid__": f"parameters: expected key=value, got '{part}'"}
        out[key.strip()] = yaml.safe_load(value.strip())
    return out


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"] if not str(p).startswith(("function-", "MusicParameters", "DanceParameters")))
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


@dataclass
class Plan:
    """What a manifest asks for: valid jobs (with their resolved output) and rows that failed validation."""

    jobs: list[Job]
    rejected: list[JobResult]

    @property
    def rows(self) -> int:
        return len(self.jobs) + len(self.rejected)


def plan_batch(manifest: str | Path, output_root: str | Path) -> Plan:
    """Validate every row; a bad row becomes a failed result with its reason, never an exception."""
    manifest = Path(manifest)
    rows = read_manifest_rows(manifest)
    base_dir = str(manifest.resolve().parent)
    jobs, rejected, claimed = [], [], {}
    for raw in rows:
        number = raw.get("row", 0)
        kind, output = str(raw.get("kind") or ""), str(raw.get("output") or "")
        try:
            if "invalid" in raw:
                raise GenseqError(f"row is not a mapping of kind/checkpoint/primer/output/parameters: {raw['invalid']!r}")
            params = raw.get("parameters") or {}
            if isinstance(params, dict) and "__invalid__" in params:
                raise GenseqError(params["__invalid__"])
            job = Job.model_validate({**raw, "base_dir": base_dir})
            target = inside_root(output_root, job.output)
            if target in claimed:
                raise GenseqError(f"same output as row {claimed[target]}", job.output)
            claimed[target] = number
            jobs.append(job)
        except ValidationError as exc:
            rejected.append(JobResult(number, kind, output, "failed", describe_validation_error(exc)))
        except GenseqError as exc:
            rejected.append(JobResult(number, kind, output, "failed", str(exc)))
    return Plan(jobs, rejected)


# ---------------------------------------------------------------------------------------------
# One job


def input_path(job: Job, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(job.base_dir) / path


def job_checkpoint(job: Job) -> Path:
    if job.checkpoint is not None:
        return input_path(job, job.checkpoint)
    if job.kind == "music":
        from genseq.music.stages import default_checkpoint

        return default_checkpoint(job.parameters.representation)
    from genseq.motion.stages import default_dance_checkpoint

    return default_dance_checkpoint()


def record_path(target: Path) -> Path:
    return target.parent / f".{target.name}{RECORD_SUFFIX}"


def job_fingerprint(job: Job, checkpoint: Path, primer: Path | None) -> str:
    """What makes two runs of a row the same job: kind, output, parameters and the input contents."""
    return stable_digest({"kind": job.kind, "output": job.output, "parameters": job.parameters.model_dump(),
                          "checkpoint": content_digest([checkpoint]), "primer": content_digest([primer])})


def complete_files(target: Path, fingerprint: str) -> list[str] | None:
    """The files of a complete, valid earlier run of this job, else None."""
    try:
        record = json.loads(record_path(target).read_text())
        if record.get("fingerprint") != fingerprint or not record.get("files"):
            return None
        files = []
        for item in record["files"]:
            path = target.parent / item["path"]
            if not path.is_file() or path.stat().st_size != item["size"] or sha256_file(path) != item["sha256"]:
                return None
            files.append(str(path))
        return files
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(target: Path, fingerprint: str, files: list[Path]) -> Path:
    import genseq

    entries = [{"path": os.path.relpath(f, target.parent), "size": f.stat().st_size, "sha256": sha256_file(f)}
               for f in map(Path, files)]
    record = {"fingerprint": fingerprint, "files": entries, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "genseq": genseq.__version__}
    return atomic_write_text(record_path(target), json.dumps(record, indent=1))


def is_transient(exc: BaseException) -> bool:
    """An error a retry may fix: I/O hiccups and timeouts, never bad input."""
    import errno

    if isinstance(exc, GenseqError):
        return False
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    return isinstance(exc, OSError) and exc.errno in {errno.EIO, errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT,
                                                      errno.ESTALE, errno.EINTR}


def job_steps(job: Job) -> list[Step]:
    """The parts of a job that workers can take from a shared queue one at a time: a music job's audio is
    a step of its own (any free worker synthesises it from the MIDI files), so that the end of a queue can
    be shared out in short steps; any other job is one step."""
    if job.kind == "music" and job.parameters.wav:
        return ["generate", "audio"]
    return ["all"]


def run_job(job: Job | dict, output_root: str | Path, device: str | None = None, step: Step = "all",
            earlier: JobResult | None = None) -> JobResult:
    """Run one job (or one of its job_steps, given the result of the step before) unless it is already
    complete and valid; never raises for a bad job. A step before the last returns status 'pending' and
    the next_step to run."""
    return attempt_job(job, output_root, device, run=True, step=step, earlier=earlier)


def check_job(job: Job | dict, output_root: str | Path) -> JobResult:
    """Without running it: 'skipped' when complete and valid, 'failed' when its inputs are missing, else 'pending'."""
    return attempt_job(job, output_root, None, run=False)


def attempt_job(job: Job | dict, output_root: str | Path, device: str | None, run: bool, step: Step = "all",
                earlier: JobResult | None = None) -> JobResult:
    started, began = time.monotonic(), time.time()
    if isinstance(job, dict):
        job = Job.model_validate(job)
    result = JobResult(job.row, job.kind, job.output, "failed", started=began, worker=os.getpid())
    try:
        target = inside_root(output_root, job.output)
        if step == "audio":
            finish_with_audio(job, target, earlier, result)
        else:
            start_job(job, target, device, run, step, result)
    except GenseqError as exc:
        result.reason = str(exc)
    except Exception as exc:  # (one row must never take the batch down)
        result.reason = f"{type(exc).__name__}: {exc}"
        result.transient = is_transient(exc)
    result.seconds = time.monotonic() - started
    result.steps = [{"step": step, "worker": result.worker, "started": began, "seconds": result.seconds}]
    return result


def start_job(job: Job, target: Path, device: str | None, run: bool, step: Step, result: JobResult) -> None:
    """The job's whole work (step 'all') or its generate step, unless it is complete; without run, only the check."""
    checkpoint, primer = job_checkpoint(job), input_path(job, job.primer)
    if not checkpoint.exists():
        raise GenseqError("no such checkpoint file or run folder", checkpoint)
    if primer is not None and not primer.is_file():
        raise GenseqError("no such primer file", primer)
    result.fingerprint = job_fingerprint(job, checkpoint, primer)
    done = complete_files(target, result.fingerprint)
    if done is not None:
        result.status, result.files, result.reason = "skipped", done, "complete and valid from an earlier run"
        return
    if not run:
        result.status = "pending"
        return
    record_path(target).unlink(missing_ok=True)  # a crash from here on leaves the job incomplete
    if job.kind == "dance":
        files = run_dance(job, checkpoint, primer, target, device)
    else:
        files = run_music(job, checkpoint, primer, target, device, with_audio=step == "all")
    result.files = [str(f) for f in files]
    if step == "generate":
        result.status, result.next_step = "pending", "audio"
    else:
        write_record(target, result.fingerprint, files)
        result.status = "done"


def finish_with_audio(job: Job, target: Path, earlier: JobResult, result: JobResult) -> None:
    """A music job's audio step: a WAV beside each MIDI file its generate step wrote, then the job record
    (of the inputs as the generate step read them)."""
    from genseq.music.render import write_wav_of_midi

    written = [Path(f) for f in earlier.files]
    wavs = [write_wav_of_midi(f, job.parameters.allow_sine) for f in written if f.suffix == ".mid"]
    first_of_sample = {path.stem: index for index, path in reversed(list(enumerate(written)))}
    files = sorted(written + wavs, key=lambda path: first_of_sample[path.stem])  # each WAV after its sample's files
    write_record(target, earlier.fingerprint, files)
    result.status, result.files, result.fingerprint = "done", [str(f) for f in files], earlier.fingerprint


def run_music(job: Job, checkpoint: Path, primer: Path | None, target: Path, device: str | None,
              with_audio: bool = True) -> list[Path]:
    from genseq.model.sample import SamplingOptions
    from genseq.music.stages import GenerateOptions, generate_and_render

    p: MusicParameters = job.parameters
    options = GenerateOptions(primer, p.include_primer, p.bars, p.seconds, p.num_outputs, p.tempo,
                              SamplingOptions(p.temperature, p.top_k, p.top_p, p.seed), p.program)
    return generate_and_render(checkpoint, target, options, p.wav and with_audio, p.png, p.allow_sine, device)


def run_dance(job: Job, checkpoint: Path, primer: Path | None, target: Path, device: str | None) -> list[Path]:
    from genseq.motion.render import render_preview
    from genseq.motion.stages import DanceGenerateOptions, generate_dance, numbered, write_dance_outputs

    p: DanceParameters = job.parameters
    clips = generate_dance(checkpoint, DanceGenerateOptions(primer, p.seconds, p.seed, p.temperature, p.num_outputs), device)
    keypoints = target.with_suffix(".npz") if p.keypoints else None
    written = write_dance_outputs(clips, target, keypoints, {"size": p.size, "camera": p.camera})
    if p.preview:
        written += [render_preview(clip, numbered(target.with_suffix(".png"), index, len(clips)), camera=p.camera)
                    for index, clip in enumerate(clips)]
    return written


# ---------------------------------------------------------------------------------------------
# Many jobs


@dataclass
class BatchReport:
    results: list[JobResult]
    seconds: float = 0.0
    workers: int = 1
    runner: str = "process"

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failed(self) -> int:
        return self.count("failed")

    def rows(self) -> list[dict]:
        return [r.to_row() for r in sorted(self.results, key=lambda r: r.row)]

    def table(self) -> str:
        """A plain-text table: row, kind, status, output, why."""
        rows = self.rows()
        head = ("row", "kind", "status", "seconds", "output", "why")
        cells = [head] + [(str(r["row"]), r["kind"], r["status"], f"{r['seconds']:.1f}", r["output"], r["why"]) for r in rows]
        widths = [max(len(c[i]) for c in cells) for i in range(len(head) - 1)]
        lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(head) - 1)) + "  " + c[-1] for c in cells]
        lines.append(f"{self.count('done')} done, {self.count('skipped')} skipped, {self.failed} failed "
                     f"in {self.seconds:.1f} s ({self.workers} {self.runner} worker(s))")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"done": self.count("done"), "skipped": self.count("skipped"), "failed": self.failed,
                "seconds": round(self.seconds, 3), "workers": self.workers, "runner": self.runner,
                "jobs": [asdict(r) for r in sorted(self.results, key=lambda r: r.row)]}


def worker_init(torch_threads: int) -> None:
    """Prepare a process that runs jobs (a worker, or this process when jobs run in it): its torch threads,
    and a heap that keeps freed memory for the next job."""
    keep_freed_memory()
    set_torch_threads(torch_threads)


def prepare_worker(torch_threads: int, preload: list[str]) -> None:
    """Initializer of a worker process: worker_init, then the modules its jobs need imported."""
    worker_init(torch_threads)
    preload_modules(preload)


def set_torch_threads(torch_threads: int) -> None:
    try:
        import torch

        torch.set_num_threads(max(1, torch_threads))
    except ImportError:
        pass


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's mallopt parameters
KEPT_BYTES = 1 << 30


def keep_freed_memory() -> None:
    """glibc: a music job allocates and frees ~100 MB of audio buffers. By default each is a fresh mapping
    whose pages the kernel faults in and zeroes, unmapped again on free; served instead from one heap
    (one arena, so a job thread uses it too) that keeps freed memory, the next job reuses it. Measured
    per 64-bar job after the first: 2,700-5,000 page faults -> about 20, kernel time 0.05-0.15 s -> 0.02-0.05 s
    (more saved on a busy machine). Cost: a worker keeps its peak heap (a few hundred MB) until it ends."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        for parameter, value in ((M_ARENA_MAX, 1), (M_MMAP_THRESHOLD, KEPT_BYTES), (M_TRIM_THRESHOLD, KEPT_BYTES)):
            libc.mallopt(parameter, value)
    except (OSError, AttributeError):  # a C library without mallopt: the defaults stay
        pass


def modules_for(jobs: list[Job]) -> list[str]:
    """The heavy modules the jobs will import (nothing for kinds or outputs the manifest does not use)."""
    names = ["genseq.service.batch"]
    music = [job.parameters for job in jobs if job.kind == "music"]
    if music:
        names += ["genseq.music.stages", "genseq.music.render", "genseq.model.sample", "pretty_midi"]
        names += ["soundfile", "fluidsynth"] if any(p.wav for p in music) else []
        names += ["cv2"] if any(p.png for p in music) else []
    if any(job.kind == "dance" for job in jobs):
        names += ["genseq.motion.stages", "genseq.motion.render", "cv2"]
    return list(dict.fromkeys(names))


def worker_context(preload: list[str]):
    """Linux: fork, from a process that has imported the heavy modules (prepare_worker) and runs no other
    thread yet: workers are ready at once. (Forking first, so that each process imports its own modules
    at the same time, was measured too: start-up took 0.2-0.6 s longer, and the copy-on-write faults it
    avoids cost less.) Elsewhere: forkserver with the same preload, else spawn."""
    import multiprocessing

    if sys.platform == "linux":
        return multiprocessing.get_context("fork")
    try:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(preload)
        return context
    except ValueError:
        return multiprocessing.get_context("spawn")


def preload_modules(names: list[str]) -> None:
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:  # a job that needs it fails with its own message
            pass


def torch_threads_per_worker(workers: int) -> int:
    """One torch thread per job worker: sampling runs small batch-1 steps that gain nothing from intra-op
    threads, and on a busy machine two threads per job made a job 15x slower here (OpenMP threads waiting
    on each other); the parallelism is the workers'."""
    return 1


DANCE_COST = 8  # a second of dance (sampled, then rendered to video) takes about 8x a second of music here


def job_weight(job: Job) -> float:
    """Rough relative cost of a job: seconds of output times outputs, a dance second costing DANCE_COST."""
    p = job.parameters
    if job.kind == "dance":
        return DANCE_COST * p.seconds * p.num_outputs
    seconds = p.seconds if p.seconds is not None else (p.bars or 8) * 4 * 60 / (p.tempo or 120)
    return seconds * p.num_outputs


def largest_first(jobs: list[Job]) -> list[Job]:
    """Longest jobs first (manifest order among equals): the queue ends on short jobs, so no worker waits
    long for the last one."""
    return sorted(jobs, key=job_weight, reverse=True)


def run_batch(manifest: str | Path, output_root: str | Path, workers: int = 2, runner: Runner = "process",
              device: str | None = None, on_result: Callable[[JobResult], None] | None = None) -> BatchReport:
    """Validate the manifest, then run every valid job on `workers` processes (or threads)."""
    if workers < 1:
        raise GenseqError(f"workers must be at least 1, got {workers}")
    if runner not in ("process", "thread"):
        raise GenseqError(f"runner must be 'process' or 'thread', got '{runner}'")
    started = time.monotonic()
    output_root = Path(output_root)
    output_root.mkdir(parents=True, exist_ok=True)
    plan = plan_batch(manifest, output_root)
    results = list(plan.rejected)
    for result in plan.rejected:
        if on_result:
            on_result(result)
    if plan.jobs:
        results += run_jobs(plan.jobs, output_root, workers, runner, device, on_result)
    return BatchReport(results, time.monotonic() - started, workers, runner)


def split_pending(jobs: list[Job], output_root: Path) -> tuple[list[JobResult], list[Job]]:
    """Results of the jobs settled without running (complete: skipped; missing inputs: failed), and the rest."""
    settled, pending = [], []
    for job in jobs:
        checked = check_job(job, output_root)
        if checked.status == "pending":
            pending.append(job)
        else:
            settled.append(checked)
    return settled, pending


def run_jobs(jobs: list[Job], output_root: Path, workers: int, runner: Runner, device: str | None,
             on_result: Callable[[JobResult], None] | None) -> list[JobResult]:
    results, pending = split_pending(jobs, output_root)  # no workers are started for settled jobs
    for result in results:
        if on_result:
            on_result(result)
    if pending:
        results += run_pending(pending, output_root, workers, runner, device, on_result)
    return results


def run_pending(jobs: list[Job], output_root: Path, workers: int, runner: Runner, device: str | None,
                on_result: Callable[[JobResult], None] | None) -> list[JobResult]:
    """Run the jobs, `workers` at a time. Threads: a thread pool. Processes: this process runs jobs
    too (one worker's share, from the first second) while workers - 1 child processes start and take
    steps from the same StepQueue, so starting them costs no idle time; a child that dies fails the steps
    the children were running then (with 2 workers, only its own), and the rest run here."""
    workers = min(workers, len(jobs))
    jobs, root, preload = largest_first(jobs), str(output_root), modules_for(jobs)
    threads = torch_threads_per_worker(workers)
    if runner == "process" and workers > 1:
        return run_shared_queue(jobs, root, workers, threads, device, on_result, preload)
    if workers == 1:
        prepare_worker(threads, preload)
    else:  # several job threads here: no single shared heap for them to contend on
        set_torch_threads(threads)
        preload_modules(preload)
    results = []
    with ThreadPoolExecutor(workers) as executor:
        futures = {executor.submit(run_job, job.model_dump(), root, device): job for job in jobs}
        for future in as_completed(futures):
            results.append(future.result())  # run_job never raises for a job
            if on_result:
                on_result(results[-1])
    return results


@dataclass
class Task:
    """One step of a job, as a worker takes it from a StepQueue."""

    job: Job
    step: Step
    earlier: Optional[JobResult] = None  # the result of the job's step before this one

    def run(self, root: str, device: str | None) -> JobResult:
        if self.step == "all":  # (the plain call: a test stands in for run_job with it)
            return run_job(self.job.model_dump(), root, device)
        return run_job(self.job.model_dump(), root, device, self.step, self.earlier)

    def failed(self, reason: str, started: float) -> JobResult:
        """The result of this step when it died without one (its worker crashed)."""
        seconds = max(0.0, time.time() - started)
        return JobResult(self.job.row, self.job.kind, self.job.output, "failed", reason, seconds=seconds, started=started,
                         steps=[{"step": self.step, "worker": 0, "started": started, "seconds": seconds}])


class StepQueue:
    """The steps of a batch's jobs, for workers taking one at a time. Jobs start longest first; a job's
    audio step is ready once its generate step has written the MIDI. While other work remains, up to
    `reserve` ready audio steps are held back: the queue then ends on short steps that the workers share
    out, so they finish together instead of one waiting for the other's last whole job."""

    def __init__(self, jobs: list[Job], reserve: int):
        import threading
        from collections import deque

        self.starts = deque(Task(job, job_steps(job)[0]) for job in largest_first(jobs))
        self.audio: deque[Task] = deque()
        self.reserve = reserve
        self.unfinished = len(jobs)
        self.changed = threading.Condition()

    def next_task(self) -> Task | None:
        if self.audio and (len(self.audio) > self.reserve or not self.starts):
            return self.audio.popleft()
        return self.starts.popleft() if self.starts else None

    def take(self, wait: bool = True) -> Task | None:
        """The next step to run; None when none is ready (without wait) or every job has finished."""
        with self.changed:
            while (task := self.next_task()) is None and wait and self.unfinished:
                self.changed.wait()
            return task

    def close(self) -> None:
        """Give out no more steps (the batch ends early): a worker waiting for one is let go."""
        with self.changed:
            self.starts.clear()
            self.audio.clear()
            self.unfinished = 0
            self.changed.notify_all()

    def finish(self, task: Task, result: JobResult) -> JobResult | None:
        """Record a step's result: the job's final result, or None when its next step is queued."""
        with self.changed:
            if result.status == "pending" and result.next_step:
                self.audio.append(Task(task.job, result.next_step, result))
            else:
                self.unfinished -= 1
                if task.earlier is not None:  # the whole job's time and steps
                    result.started, result.seconds = task.earlier.started, task.earlier.seconds + result.seconds
                    result.steps = task.earlier.steps + result.steps
                    result.next_step = ""
            self.changed.notify_all()
            return None if result.status == "pending" else result


def run_shared_queue(jobs: list[Job], root: str, workers: int, threads: int, device: str | None,
                     on_result: Callable[[JobResult], None] | None, preload: list[str]) -> list[JobResult]:
    import queue
    import threading

    steps, finished = StepQueue(jobs, reserve=2 * workers), queue.Queue()

    def here() -> None:  # this process's share
        while (task := steps.take()) is not None:
            began = time.time()
            try:
                result = task.run(root, device)
            except BaseException as exc:  # (run_job catches a job's errors; the main thread waits for every step)
                result = task.failed(f"{type(exc).__name__}: {exc}", began)
            finished.put((task, result))

    results: list[JobResult] = []
    prepare_worker(threads, preload)
    local = threading.Thread(target=here, name="genseq-batch-local", daemon=True)
    try:
        with ProcessPoolExecutor(workers - 1, mp_context=worker_context(preload), initializer=prepare_worker,
                                 initargs=(threads, preload)) as pool:
            for _ in range(workers - 1):  # start the workers now, while this process has no other thread
                pool.submit(os.getpid)
            running: dict[Future, tuple[Task, float]] = {}

            def feed() -> None:
                while len(running) < workers - 1 and (task := steps.take(wait=False)) is not None:
                    try:
                        future = pool.submit(task.run, root, device)
                    except BrokenExecutor:  # a worker died earlier: run the step here instead (it did nothing wrong)
                        finished.put((task, task.run(root, device)))
                        continue
                    running[future] = (task, time.time())
                    future.add_done_callback(finished.put)

            feed()
            local.start()
            while len(results) < len(jobs):
                item = finished.get()
                if isinstance(item, Future):
                    task, submitted = running.pop(item)
                    try:
                        task_result = item.result()
                    except Exception as exc:  # (a worker process died: its steps fail, the rest go on)
                        task_result = task.failed(f"worker crashed: {type(exc).__name__}: {exc}", submitted)
                else:
                    task, task_result = item
                result = steps.finish(task, task_result)
                feed()
                if result is not None:
                    results.append(result)
                    if on_result:
                        on_result(result)
    finally:  # also when on_result raises or Ctrl-C: no step starts after this returns
        steps.close()
        if local.is_alive():
            local.join()
    return results
