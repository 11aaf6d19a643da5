"""Worker processes of a batch: how they start (fork after the heavy imports), their torch threads and
heap, and that they die with their parent (a `kill -9` of `genseq batch` leaves no worker behind)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_SECONDS = 0.5  # how often a worker checks that its parent is still there


def worker_init(torch_threads: int, parent: int | None = None) -> None:
    """Prepare a process that runs jobs (a worker, or this process when jobs run in it): its torch threads,
    and a heap that keeps freed memory for the next job. With `parent` (the pid that started this worker),
    the worker ends as soon as that process is gone (watch_parent)."""
    if parent is not None:
        watch_parent(parent)
    keep_freed_memory()
    set_torch_threads(torch_threads)


def prepare_worker(torch_threads: int, preload: list[str], parent: int | None = None) -> None:
    """Initializer of a worker process of genseq batch: the kernel kills it when its parent dies
    (die_with_parent), then worker_init and the modules its jobs need imported."""
    if parent is not None:
        die_with_parent(parent)
    worker_init(torch_threads, parent)
    preload_modules(preload)


def die_with_parent(parent: int | None = None, sig: int = signal.SIGKILL) -> None:
    """Linux: ask the kernel for `sig` when the parent ends (prctl PR_SET_PDEATHSIG), even by SIGKILL, and
    (given the parent's pid) end at once if it already has. The signal comes when the *thread* that forked
    us ends: the batch forks its workers from the thread that then waits for them, so that thread outlives
    them. watch_parent covers other systems. Also a preexec_fn for a child before exec (genseq server)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog alone
            pass
    if parent is not None and os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def watch_parent(parent: int, every: float = WATCH_SECONDS) -> threading.Thread:
    """A daemon thread that ends this process when its parent is gone (it then has another parent pid),
    even while the main thread is blocked reading a pipe the dead parent no longer writes. A worker that a
    fork server started (its parent pid is the fork server's, which outlives ours) watches `parent` itself."""
    direct = os.getppid() == parent

    def there() -> bool:
        return os.getppid() == parent if direct else is_alive(parent)

    def watch() -> None:
        while there():
            time.sleep(every)
        os._exit(1)

    thread = threading.Thread(target=watch, name="genseq-parent-watch", daemon=True)
    thread.start()
    return thread


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, but there
        return True
    return True


def set_torch_threads(torch_threads: int) -> None:
    try:
        import torch  # noqa: F401 - imported here so that the threads are set before any job

        from genseq.core.resources import apply_thread_budget
        apply_thread_budget(max(1, torch_threads))  # torch's and BLAS threads; counted as a run in flight
    except ImportError:
        pass


def torch_threads_per_worker(workers: int) -> int:
    """One torch thread per job worker: sampling runs small batch-1 steps that gain nothing from intra-op
    threads, and on a busy machine two threads per job made a job 15x slower here (OpenMP threads waiting
    on each other); the parallelism is the workers'."""
    return 1


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


def modules_for(jobs: list) -> list[str]:
    """The heavy modules the jobs (genseq.service.manifest.Job) will import (nothing for kinds or outputs
    the manifest does not use)."""
    names = ["genseq.service.jobs"]
    music = [job.parameters for job in jobs if job.kind == "music"]
    if music:
        names += ["genseq.music.generate", "genseq.music.render", "genseq.model.sampler", "pretty_midi"]
        names += ["soundfile", "fluidsynth"] if any(p.wav for p in music) else []
        names += ["cv2"] if any(p.png for p in music) else []
    if any(job.kind == "dance" for job in jobs):
        names += ["genseq.motion.generate", "genseq.motion.render", "cv2"]
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
