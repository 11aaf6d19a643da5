"""Prefect flow: render many clips from a manifest (`genseq batch` as a flow).

Each valid row becomes one task running genseq.service.jobs.run_job, the same function
`genseq batch` runs; rows that fail validation are reported without running. The task
runner comes from configuration, not code: the flow's parameters, whose defaults come from
the environment of the serving process:

    GENSEQ_TASK_RUNNER   process (default) | thread | dask
    GENSEQ_BATCH_WORKERS jobs at once on this machine (default 2)
    GENSEQ_DASK_ADDRESS  a Dask scheduler (tcp://host:8786) for task_runner=dask;
                         empty: a LocalCluster of `workers` processes on this machine

The same manifest runs unchanged on any of them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, Field
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from flows.progress import outputs_markdown, progress_reporter, publish_table
from flows.tasks import retry_transient
from genseq.core.atomic import atomic_write_text
from genseq.service.jobs import remove_empty_folders, run_job
from genseq.service.manifest import plan_batch
from genseq.service.results import BatchReport, JobResult
from genseq.service.scheduler import largest_first, split_pending
from genseq.service.workers import set_torch_threads, torch_threads_per_worker, worker_init

TaskRunnerKind = Literal["process", "thread", "dask"]


def env_default(name: str, fallback: str) -> str:
    return os.environ.get(name) or fallback


class BatchRenderParams(BaseModel):
    manifest: Optional[str] = Field(None, description="YAML or CSV manifest, one job per row (see docs/service.md); "
                                                      "empty: an example manifest of 4 music jobs on the bundled models")
    output_root: str = Field("out/batch", description="every row's output goes inside this folder")
    task_runner: TaskRunnerKind = Field(default_factory=lambda: env_default("GENSEQ_TASK_RUNNER", "process"),
                                        description="process or thread pool on this machine, or a Dask cluster")
    workers: int = Field(default_factory=lambda: int(env_default("GENSEQ_BATCH_WORKERS", "2")), ge=1, le=256,
                         description="jobs at once (process/thread, and a local Dask cluster)")
    dask_address: Optional[str] = Field(default_factory=lambda: os.environ.get("GENSEQ_DASK_ADDRESS") or None,
                                        description="Dask scheduler address (tcp://host:8786); empty: a local cluster")
    device: Optional[str] = Field(None, description="torch device for sampling (default: the GPU when there is one)")


def make_task_runner(kind: str, workers: int, dask_address: str | None = None) -> TaskRunner:
    """The task runner the configuration names (no code change between them)."""
    if kind == "thread":
        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "process":
        return ProcessPoolTaskRunner(max_workers=workers, initializer=worker_init,  # workers end with this process
                                     initargs=(torch_threads_per_worker(workers), os.getpid()))
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    raise ValueError(f"task_runner must be process, thread or dask, got '{kind}'")


class JobFailed(Exception):
    """A job failed for a reason a retry cannot fix (bad input, bad option): its task run shows Failed.
    args: the reason, and the folders the job created (removed at the end of the batch when empty)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def created(self) -> list[str]:
        return list(self.args[1]) if len(self.args) > 1 else []


class TransientJobError(JobFailed):
    """A job failed for a reason a retry may fix (an I/O hiccup)."""

    transient = True  # what genseq.core.transient.is_transient, and so retry_transient, looks for


@task(name="render-job", cache_policy=NO_CACHE, persist_result=False, retries=1, retry_delay_seconds=3,
      retry_condition_fn=retry_transient, task_run_name="row {job[row]}: {job[kind]} -> {job[output]}")
def render_job_task(job: dict, output_root: str, device: str | None = None) -> JobResult:
    """One manifest row: skipped when complete and valid, else run (bad input fails the row, never the batch)."""
    result = run_job(job, output_root, device)
    if result.status == "failed":
        raise (TransientJobError if result.transient else JobFailed)(result.reason, result.created)
    return result


@flow(name="batch-render-jobs", log_prints=True)
def render_jobs(jobs: list[dict], output_root: str, device: str | None = None) -> list[JobResult]:
    """Submit every job to this flow's task runner; collect a result per job, failures included."""
    report = progress_reporter(f"{len(jobs)} render job(s)", len(jobs))
    futures = {render_job_task.submit(job, output_root, device): job for job in jobs}
    results = []
    for future in as_completed(list(futures)):
        job = futures[future]
        try:
            result = future.result()
        except JobFailed as exc:  # bad input, or retries spent: this row fails alone
            result = JobResult(job["row"], job["kind"], job["output"], "failed", str(exc), created=exc.created())
        except Exception as exc:  # (a worker died, or the task runner failed it)
            result = JobResult(job["row"], job["kind"], job["output"], "failed", f"{type(exc).__name__}: {exc}")
        results.append(result)
        print(f"row {result.row}: {result.status}{' (' + result.reason + ')' if result.status == 'failed' else ''}")
        report(len(results))
    return results


def example_manifest(folder: Path) -> Path:
    """Four music jobs on the bundled models (melody and piano roll, two seeds each)."""
    rows = [{"kind": "music", "output": f"{rep}-seed{seed}",
             "parameters": {"representation": rep, "seed": seed, "bars": 8, "temperature": 0.9}}
            for rep in ("melody", "pianoroll") for seed in (1, 2)]
    path = folder / "example-manifest.yaml"
    if not path.exists():
        atomic_write_text(path, "# made by the batch-render flow when no manifest is given\n" + yaml.safe_dump(rows, sort_keys=False))
    return path


@flow(name="batch-render", log_prints=True)
def batch_render(params: BatchRenderParams = BatchRenderParams()) -> dict:
    root = Path(params.output_root)
    root.mkdir(parents=True, exist_ok=True)
    manifest = Path(params.manifest) if params.manifest else example_manifest(root)
    plan = plan_batch(manifest, root)
    print(f"{plan.rows} row(s): {len(plan.jobs)} valid, {len(plan.rejected)} rejected; "
          f"task runner {params.task_runner} ({params.dask_address or f'{params.workers} worker(s)'})")
    started = time.monotonic()
    settled, pending = split_pending(plan.jobs, root)  # no workers are started for settled rows
    results = list(plan.rejected) + settled
    if pending:
        set_torch_threads(torch_threads_per_worker(params.workers))  # thread and in-process Dask workers run jobs here
        runner = make_task_runner(params.task_runner, params.workers, params.dask_address)
        results += render_jobs.with_options(task_runner=runner)([job.model_dump() for job in largest_first(pending)],
                                                                str(root.resolve()), params.device)
    remove_empty_folders(results)
    report = BatchReport(results, time.monotonic() - started, params.workers, params.task_runner)
    publish_report(report, manifest)
    print(report.table())
    return report.to_json()


def publish_report(report: BatchReport, manifest: Path) -> None:
    from prefect.artifacts import create_markdown_artifact

    publish_table(report.rows(), f"batch {manifest.name}: done, skipped, failed (why)", key="batch-render-report")
    files = [Path(f) for r in sorted(report.results, key=lambda r: r.row) if r.status != "failed" for f in r.files]
    title = (f"Batch {manifest.name}: {report.count('done')} done, {report.count('skipped')} skipped, "
             f"{report.failed} failed")
    failures = "\n".join(f"- row {r.row} (`{r.output}`): {r.reason}" for r in report.results if r.status == "failed")
    note = f"**Failed rows**\n\n{failures}" if failures else "Every row completed."
    create_markdown_artifact(markdown=outputs_markdown(title, files, note), key="batch-render-outputs", description=title)


if __name__ == "__main__":
    batch_render()
