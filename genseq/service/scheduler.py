"""Running a batch: the order of its jobs, the StepQueue workers share, and the process and thread runners.

`run_batch` validates the manifest (genseq.service.manifest), settles the jobs that need no run
(complete: skipped; missing inputs: failed), runs the rest on `workers` processes or threads
(genseq.service.workers) one job or step at a time (genseq.service.jobs), and reports a
genseq.service.results.BatchReport. Empty folders left by failed jobs are removed at the end.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Optional

from genseq.core.atomic import ensure_writable_dir
from genseq.core.errors import GenseqError
from genseq.service.jobs import Step, check_job, job_steps, remove_empty_folders, run_job
from genseq.service.manifest import Job, Plan, plan_batch
from genseq.service.results import BatchReport, JobResult
from genseq.service.workers import (modules_for, preload_modules, prepare_worker, set_torch_threads,
                                    torch_threads_per_worker, worker_context)

Runner = Literal["process", "thread"]
OnResult = Optional[Callable[[JobResult], None]]
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


def run_batch(manifest: str | Path | Plan, output_root: str | Path, workers: int = 2, runner: Runner = "process",
              device: str | None = None, on_result: OnResult = None) -> BatchReport:
    """Validate the manifest, then run every valid job on `workers` processes (or threads)."""
    if workers < 1:
        raise GenseqError(f"workers must be at least 1, got {workers}")
    if runner not in ("process", "thread"):
        raise GenseqError(f"runner must be 'process' or 'thread', got '{runner}'")
    started = time.monotonic()
    output_root = Path(output_root)
    plan = manifest if isinstance(manifest, Plan) else plan_batch(manifest, output_root)  # a refused one leaves no --out
    results = list(plan.rejected)
    for result in plan.rejected:
        if on_result:
            on_result(result)
    if plan.jobs:
        ensure_writable_dir(output_root)
        results += run_jobs(plan.jobs, output_root, workers, runner, device, on_result)
    remove_empty_folders(results)
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
             on_result: OnResult) -> list[JobResult]:
    results, pending = split_pending(jobs, output_root)  # no workers are started for settled jobs
    for result in results:
        if on_result:
            on_result(result)
    if pending:
        results += run_pending(pending, output_root, workers, runner, device, on_result)
    return results


def run_pending(jobs: list[Job], output_root: Path, workers: int, runner: Runner, device: str | None,
                on_result: OnResult) -> list[JobResult]:
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
                     on_result: OnResult, preload: list[str]) -> list[JobResult]:
    """The process runner: this thread forks workers - 1 children (which die with it: they get
    prepare_worker's parent) and waits for their steps while a local thread runs this process's share."""
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
                                 initargs=(threads, preload, os.getpid())) as pool:
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
