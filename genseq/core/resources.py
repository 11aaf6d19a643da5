"""Memory estimates before allocation: refuse a config or an option the machine cannot hold.

A config with ``hidden_size: 100000`` or a render at ``--size 100000`` would otherwise allocate
until the machine runs out (160 GB, 28 GiB). The estimates here are rough upper bounds of the
big buffers (parameters, gradients and Adam's two moments, the activations kept for the
backward pass, frame buffers), good to within a small factor: enough to refuse what is far
out of reach and to name the key that makes it so.

The limit: ``max_memory`` (the CLI's ``--max-memory``, via set_max_memory), else the
environment variable GENSEQ_MAX_MEMORY, else half the machine's memory (physical memory or the
cgroup limit, whichever is smaller). Values: bytes, or a number with K/M/G/T (powers of 1024,
optional B or iB), or a percentage of the machine's memory ("80%").
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping

from genseq.core.errors import GenseqError

ENV = "GENSEQ_MAX_MEMORY"
DEFAULT_FRACTION = 0.5
FLOAT = 4  # bytes of a float32
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
SAVED_PER_UNIT = {"lstm": 7, "gru": 5, "rnn": 2}  # activations one step of one hidden unit keeps for backward
MODEST = {"model.hidden_size": 256, "model.num_layers": 3, "model.nade_hidden": 100, "train.batch_size": 32,
          "train.seq_len": 128}
UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}

_override: int | str | None = None


def machine_memory() -> int:
    """Physical memory, or the cgroup's memory limit when that is smaller."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            total = int(text)
    return total


def parse_memory(value: int | float | str, source: str) -> int:
    """Bytes from 12000000000, "12G", "12 GiB", "1.5T" or "80%"; GenseqError naming `source` if unreadable."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number, unit = float(value), ""
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(%|[kKmMgGtT]?)(?:i?[bB])?\s*", str(value))
        if not match:
            raise GenseqError(f"not a memory size: {str(value)[:40]!r} (use e.g. 12G, 512M or 80%)", source)
        number, unit = float(match.group(1)), match.group(2).lower()
    result = machine_memory() * number / 100 if unit == "%" else number * UNITS[unit]
    if not result >= 1 << 20:
        raise GenseqError(f"memory limit {value!r} is below 1 MiB", source)
    return int(result)


def set_max_memory(value: int | str | None) -> None:
    """The CLI's --max-memory, for every estimate of this process (None: back to the default)."""
    global _override
    if value is not None:
        parse_memory(value, "--max-memory")  # refuse a bad value at once
    _override = value


def memory_limit(max_memory: int | str | None = None) -> tuple[int, str]:
    """The limit in bytes and what set it (for the message)."""
    if max_memory is not None:
        return parse_memory(max_memory, "--max-memory"), "--max-memory"
    if _override is not None:
        return parse_memory(_override, "--max-memory"), "--max-memory"
    if os.environ.get(ENV, "").strip():
        return parse_memory(os.environ[ENV], ENV), ENV
    return int(machine_memory() * DEFAULT_FRACTION), "half this machine's memory"


def human(size: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size / 1e3:.3g} kB"


def setting(config, key: str, default):
    """config[key] or config.key (a mapping or a model), the default where it is missing or None."""
    value = config.get(key, default) if isinstance(config, Mapping) else getattr(config, key, default)
    return default if value is None else value


def layer_inputs(model, input_size: int) -> list[int]:
    hidden, layers = int(setting(model, "hidden_size", 256)), int(setting(model, "num_layers", 3))
    to_all = bool(setting(model, "input_to_all_layers", True))
    return [input_size] + [hidden + (input_size if to_all else 0)] * (layers - 1)


def head_size(model, output_size: int) -> int:
    return output_size + int(setting(model, "nade_hidden", 100)) if setting(model, "head", "default") == "nade" else output_size


def parameter_count(model, input_size: int, output_size: int) -> int:
    """Parameters of the stacked recurrent model a ModelConfig (or its dict) describes."""
    hidden, layers = int(setting(model, "hidden_size", 256)), int(setting(model, "num_layers", 3))
    gates = GATES.get(str(setting(model, "cell", "lstm")), 4)
    recurrent = sum(gates * hidden * (width + hidden + 2) for width in layer_inputs(model, input_size))
    head = (hidden * layers + input_size + 1) * head_size(model, output_size)
    joint = 2 * output_size * int(setting(model, "nade_hidden", 100)) if setting(model, "head", "default") == "nade" else 0
    return recurrent + head + joint


def model_bytes(model, input_size: int, output_size: int, batch_size: int = 0, seq_len: int = 0,
                training: bool = False) -> int:
    """Bytes a model needs: its weights; when training also gradients, Adam's moments and the
    activations of one batch_size x seq_len batch kept for the backward pass."""
    params = parameter_count(model, input_size, output_size)
    if not training:
        return params * FLOAT
    hidden, layers = int(setting(model, "hidden_size", 256)), int(setting(model, "num_layers", 3))
    saved = SAVED_PER_UNIT.get(str(setting(model, "cell", "lstm")), 7)
    per_step = sum(saved * hidden + width for width in layer_inputs(model, input_size))
    per_step += hidden * layers + input_size + 3 * head_size(model, output_size)
    activations = 2 * per_step * max(1, batch_size) * max(1, seq_len)  # x2: the backward pass's transients
    return FLOAT * (4 * params + activations)


def culprit(model, train, input_size: int, output_size: int) -> str:
    """The config key whose reduction to a modest value shrinks the training estimate the most."""
    base = {"model": dict(model_fields(model)), "train": {"batch_size": setting(train, "batch_size", 1),
                                                            "seq_len": setting(train, "seq_len", 1)}}

    def estimate(config) -> int:
        return model_bytes(config["model"], input_size, output_size, config["train"]["batch_size"],
                           config["train"]["seq_len"], training=train is not None)

    best, best_key = estimate(base), "model size"
    for key, modest in MODEST.items():
        section, name = key.split(".")
        if train is None and section == "train":
            continue
        trial = {"model": dict(base["model"]), "train": dict(base["train"])}
        trial[section][name] = min(modest, trial[section].get(name, modest))
        if estimate(trial) < best:
            best, best_key = estimate(trial), key
    return best_key if best_key != "model size" or output_size < 1 << 16 else f"output size ({output_size})"


def model_fields(model) -> dict:
    keys = ("cell", "hidden_size", "num_layers", "input_to_all_layers", "head", "nade_hidden")
    return {key: setting(model, key, None) for key in keys if setting(model, key, None) is not None}


def check_model_memory(model, input_size: int, output_size: int, train=None, max_memory: int | str | None = None) -> int:
    """Refuse (GenseqError naming the config key) a model, or its training when `train` (a
    TrainConfig or dict) is given, that needs more memory than the limit; returns the estimate."""
    batch, seq_len = (int(setting(train, "batch_size", 1)), int(setting(train, "seq_len", 1))) if train is not None else (0, 0)
    needed = model_bytes(model, input_size, output_size, batch, seq_len, training=train is not None)
    limit, source = memory_limit(max_memory if max_memory is not None else setting(train or {}, "max_memory", None))
    if needed > limit:
        key = culprit(model, train, input_size, output_size)
        raise GenseqError(f"needs about {human(needed)} of memory{' to train' if train is not None else ''}, "
                          f"limit {human(limit)} ({source}); lower it or raise --max-memory (or {ENV})", key)
    return needed


def check_render_memory(size: int, buffers: int = 4, key: str = "--size", max_memory: int | str | None = None) -> int:
    """Refuse a picture size whose frame buffers (size x size x 3 bytes, `buffers` of them) exceed the limit."""
    needed = int(size) * int(size) * 3 * buffers
    limit, source = memory_limit(max_memory)
    if needed > limit:
        raise GenseqError(f"{size} x {size} frames need about {human(needed)} of memory, limit {human(limit)} ({source}); "
                          f"use a smaller size or raise --max-memory (or {ENV})", key)
    return needed


# -- the thread budget -------------------------------------------------------------------------------
# Two trainings on 2 cores, each with as many torch (OpenMP) threads as there are cores, ran 5.5x slower
# than alone: their threads spin against each other. A process that calls apply_thread_budget() (the CLI's
# main, the service's workers) or inherits its policy (GENSEQ_THREAD_BUDGET, exported for child processes:
# the flow runs the service starts, batch workers) uses `threads` torch and BLAS threads, else GENSEQ_THREADS,
# else cores // runs-in-flight. Runs in flight: the processes doing model work now (note_run_in_flight,
# called by the model's forward and the sampler; one pid file each under a per-user folder). The share is
# checked again every REFRESH_SECONDS from the thread doing the work (torch's thread settings are per
# thread), so runs started together settle on a fair share within seconds, and one left alone takes the cores.

THREADS_ENV, POLICY_ENV = "GENSEQ_THREADS", "GENSEQ_THREAD_BUDGET"
REFRESH_SECONDS = 2.0
_budget = {"registered": None, "checked": 0.0, "applied": None}


def usable_cores() -> int:
    """CPUs this process may run on: its affinity, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def runs_folder() -> Path:
    import tempfile

    return Path(tempfile.gettempdir()) / f"genseq-runs-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


def process_start(pid: int) -> str | None:
    """A token telling this pid's process from a later one with the same pid (Linux: its start time)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "alive"


def runs_in_flight() -> int:
    """How many processes are doing model work now (records of ended ones are removed)."""
    count, folder = 0, runs_folder()
    for record in folder.glob("*") if folder.is_dir() else []:
        try:
            pid, started = int(record.name), record.read_text().strip()
        except (OSError, ValueError):
            continue
        if started and process_start(pid) in (started, "alive"):
            count += 1
        else:
            record.unlink(missing_ok=True)
    return count


def env_threads(name: str, text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise GenseqError(f"not a number of threads: {text[:20]!r} (a whole number, 1 or more)", name)
    return int(text)


def budget_threads(runs: int | None = None, cores: int | None = None) -> int | None:
    """Threads for this run: GENSEQ_THREADS when set, else the policy's number, else (policy "auto") the
    cores shared among the runs in flight; None when no policy applies (the process keeps its own)."""
    override, policy = os.environ.get(THREADS_ENV, "").strip(), os.environ.get(POLICY_ENV, "").strip()
    if override:
        return env_threads(THREADS_ENV, override)
    if not policy:
        return None
    if policy != "auto":
        return env_threads(POLICY_ENV, policy)
    runs = runs_in_flight() if runs is None else runs
    return max(1, (cores or usable_cores()) // max(1, runs))


def apply_thread_budget(threads: int | None = None) -> None:
    """Where a process starts: from its first model work on, it uses `threads` torch and BLAS threads, else
    GENSEQ_THREADS, else its share of the cores, kept up to date; child processes inherit the policy."""
    os.environ[POLICY_ENV] = str(threads) if threads else "auto"
    budget_threads(runs=1)  # a bad GENSEQ_THREADS is refused at once
    _budget["checked"] = 0.0
    if "torch" in __import__("sys").modules:
        note_run_in_flight()


def note_run_in_flight() -> None:
    """Called by the model's forward and the sampler: records this process as a run in flight (once) and
    sets its threads by the budget (again every REFRESH_SECONDS). Next to free when not due."""
    import time

    now = time.monotonic()
    if now < _budget["checked"]:
        return
    _budget["checked"] = now + REFRESH_SECONDS
    if _budget["registered"] != os.getpid():
        register_run()
    set_threads(budget_threads())


def register_run() -> None:
    import atexit

    record = runs_folder() / str(os.getpid())
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(process_start(os.getpid()) or "alive")
    except OSError:  # no writable temp folder: this run is not counted by others
        return
    _budget["registered"] = os.getpid()
    atexit.register(record.unlink, missing_ok=True)


def set_threads(threads: int | None) -> None:
    """torch's intra-op threads and numpy's BLAS threads (None: BLAS follows torch's own number)."""
    import torch

    if threads is not None and threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    threads = threads or torch.get_num_threads()
    if _budget["applied"] != threads:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass
        else:
            threadpool_limits(threads, user_api="blas")
        _budget["applied"] = threads
