"""One batch job: its identity (fingerprint and record), and running it, never raising for a bad row.

A job is complete when its record `.<output name>.genseq-job.json` (beside the output,
written atomically after every output file) names the same job (kind, parameters, output,
and the content hashes of checkpoint and primer) and every file it lists still has the
recorded size and SHA-256. Complete jobs are skipped; anything else runs again, after the
temporary files a killed run of it left (`.<stem>.XXXXXXXX.tmp<suffix>`, see core/atomic.py)
are removed. The folders a failed job created are removed when the batch ends if they are empty.
"""

from __future__ import annotations

import errno
import json
import os
import re
import time
from pathlib import Path
from typing import Literal

from genseq.core.atomic import atomic_write_text, name_limit
from genseq.core.errors import GenseqError
from genseq.core.transient import is_transient
from genseq.service.files import content_digest, inside_root, sha256_file, stable_digest
from genseq.service.manifest import DanceParameters, Job, MusicParameters, record_path
from genseq.service.results import JobResult

Step = Literal["all", "generate", "audio"]


def input_path(job: Job, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(job.base_dir) / path


def job_checkpoint(job: Job) -> Path:
    if job.checkpoint is not None:
        return input_path(job, job.checkpoint)
    if job.kind == "music":
        from genseq.music.generate import default_checkpoint

        return default_checkpoint(job.parameters.representation)
    from genseq.motion.generate import default_dance_checkpoint

    return default_dance_checkpoint()


def job_fingerprint(job: Job, checkpoint: Path, primer: Path | None, song: Path | None = None) -> str:
    """What makes two runs of a row the same job: kind, output, parameters and the input contents."""
    inputs = {"checkpoint": content_digest([checkpoint]), "primer": content_digest([primer])}
    if song is not None:  # a dance to a song: the song's bytes too
        inputs["music"] = content_digest([song])
    return stable_digest({"kind": job.kind, "output": job.output, "parameters": job.parameters.model_dump(), **inputs})


def job_song(job: Job) -> Path | None:
    """A dance row's song (parameters.music), read relative to the manifest's folder like the primer."""
    song = getattr(job.parameters, "music", None) if job.kind == "dance" else None
    path = input_path(job, song) if song else None
    if path is not None and not path.is_file():
        raise GenseqError("no such song file", path)
    return path


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


def job_steps(job: Job) -> list[Step]:
    """The parts of a job that workers can take from a shared queue one at a time: a music job's audio is
    a step of its own (any free worker synthesises it from the MIDI files), so that the end of a queue can
    be shared out in short steps; any other job is one step."""
    if job.kind == "music" and job.parameters.wav:
        return ["generate", "audio"]
    return ["all"]


# ---------------------------------------------------------------------------------------------
# Leftovers of killed and failed runs


def temporary_of(name: str, suffix: str) -> re.Pattern:
    """The names core/atomic.py's atomic_path gives a temporary file for `name` (mkstemp's 8 random characters)."""
    return re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{8}}\.tmp{re.escape(suffix)}")


def remove_stale_temporaries(job: Job, target: Path) -> list[Path]:
    """Remove the temporary files a killed run of this job left beside its outputs and record (no other job
    writes these names: plan_batch refuses rows whose files collide). Returns what was removed."""
    files = [*map(Path, job.writes(target)), record_path(target)]
    removed = []
    for folder in {f.parent for f in files}:
        patterns = [temporary_of(Path(f.name).stem, f.suffix) for f in files if f.parent == folder]
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            if entry.is_file(follow_symlinks=False) and any(p.fullmatch(entry.name) for p in patterns):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def missing_folders(job: Job, output_root: str | Path, target: Path) -> list[Path]:
    """The folders (inside the output root) a run of the job would create, deepest first."""
    root = Path(output_root).resolve()
    folder = target if job.kind == "music" else target.parent
    missing = []
    while folder != root and root in folder.parents and not folder.exists():
        missing.append(folder)
        folder = folder.parent
    return missing


def remove_empty_folders(results: list[JobResult]) -> None:
    """Remove the folders failed jobs created that are still empty, once no job runs any more (a job
    running beside the failed one may be about to write into a folder they share)."""
    for result in results:
        for folder in result.created if result.status == "failed" else []:  # deepest first
            try:
                os.rmdir(folder)
            except OSError:  # not empty (another job's files, or it is gone): keep it and its parents
                break


# ---------------------------------------------------------------------------------------------
# Running a job


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
    created: list[Path] = []
    try:
        target = inside_root(output_root, job.output)
        created = missing_folders(job, output_root, target) if run else []
        if step == "audio":
            finish_with_audio(job, target, earlier, result)
        else:
            perform_job(job, output_root, target, device, run, step, result)
    except GenseqError as exc:
        result.reason = str(exc)
    except Exception as exc:  # (one row must never take the batch down)
        result.reason = failure_reason(exc)
        result.transient = is_transient(exc)
    if result.status == "failed":
        result.created = [str(folder) for folder in created if folder.is_dir()]
    result.seconds = time.monotonic() - started
    result.steps = [{"step": step, "worker": result.worker, "started": began, "seconds": result.seconds}]
    return result


def failure_reason(exc: Exception) -> str:
    """A failure no stage put in words; a name the file system refuses says which (plan_batch refuses the
    names it can foresee, this is for the rest)."""
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG and exc.filename:
        name = Path(os.fsdecode(exc.filename))
        return (f"{name}: file name too long for the file system ({len(os.fsencode(name.name))} bytes in one name, "
                f"at most {name_limit(name.parent)} allowed); shorten the row's output")
    return f"{type(exc).__name__}: {exc}"


def perform_job(job: Job, output_root: str | Path, target: Path, device: str | None, run: bool, step: Step,
              result: JobResult) -> None:
    """The job's whole work (step 'all') or its generate step, unless it is complete; without run, only the check."""
    checkpoint, primer = job_checkpoint(job), input_path(job, job.primer)
    if not checkpoint.exists():
        raise GenseqError("no such checkpoint file or run folder", checkpoint)
    if primer is not None and not primer.is_file():
        raise GenseqError("no such primer file", primer)
    song = job_song(job)
    result.fingerprint = job_fingerprint(job, checkpoint, primer, song)
    if run:
        remove_stale_temporaries(job, target)
    done = complete_files(target, result.fingerprint)
    if done is not None:
        result.status, result.files, result.reason = "skipped", done, "complete and valid from an earlier run"
        return
    if not run:
        result.status = "pending"
        return
    record_path(target).unlink(missing_ok=True)  # a crash from here on leaves the job incomplete
    if job.kind == "dance":
        files = run_dance(job, checkpoint, primer, target, device, song)
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
    from genseq.core.options import GenerateMusicOptions
    from genseq.music.generate import generate_and_render

    p: MusicParameters = job.parameters
    options = GenerateMusicOptions.build(**{**p.model_dump(), "wav": p.wav and with_audio}, out=str(target),
                                         checkpoint=str(checkpoint), primer=primer and str(primer), device=device)
    return generate_and_render(options)


def run_dance(job: Job, checkpoint: Path, primer: Path | None, target: Path, device: str | None,
              song: Path | None = None) -> list[Path]:
    from genseq.core.options import GenerateDanceOptions
    from genseq.compose.dance_to_music import make_dance

    p: DanceParameters = job.parameters
    keypoints = str(target.with_suffix(".npz")) if p.keypoints else None
    options = GenerateDanceOptions.build(**p.model_dump(exclude={"keypoints", "music", "background"}), out=str(target),
                                         keypoints_out=keypoints,
                                         checkpoint=str(checkpoint), primer=primer and str(primer), device=device,
                                         music=song and str(song), background=background_of(job))
    return make_dance(options)


def background_of(job: Job) -> str | None:
    """A dance row's background: R,G,B as written, a picture or video read relative to the manifest's folder."""
    from genseq.core.looks import parse_rgb

    value = job.parameters.background
    return value if value is None or parse_rgb(value) is not None else str(input_path(job, value))
