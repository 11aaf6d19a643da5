"""Benchmark: the same manifest of render jobs with 1 worker and with 2 workers (`genseq batch`'s runner).

Each job samples a piece from a music model and renders it to MIDI, WAV (fluidsynth) and a
piano-roll PNG: the work content creators batch. Each measurement is the wall time of the
real command, `genseq batch MANIFEST --workers N` in a fresh process (interpreter start,
imports and, for 2 workers, starting the worker processes included). Rounds in the
order 1, 2, 2, 1, ... workers; the figures are the median of each configuration's runs, with
where the time went (start-up before the first job, shut-down after the last, and the first
worker's wait for the last one at the end: from the job start times and process ids in the
command's report). All runs must write identical MIDI files (same seeds, same outputs). Writes
bench/results/batch_scaling.json atomically.

    .venv/bin/python bench/batch_scaling.py [--jobs 16 --bars 64 --rounds 3 --checkpoint assets/music-melody.pt]

Without --checkpoint it uses the bundled melody model, or (when that is missing) a tiny model
trained here in seconds with configs/tiny.yaml, and says which in the result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from genseq.core.atomic import atomic_write_text
from genseq.core.paths import assets_dir

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "bench" / "results" / "batch_scaling.json"


def tiny_checkpoint(folder: Path) -> Path:
    """A tiny melody model trained on a few scale tunes (configs/tiny.yaml), for machines without assets/."""
    import pretty_midi

    from genseq.core.domain import resolve_run_config
    from genseq.core.options import TrainMusicOptions
    from genseq.model.train import train_domain
    from genseq.music.domain import MUSIC

    tunes = folder / "tunes"
    tunes.mkdir(parents=True)
    for index in range(4):
        midi = pretty_midi.PrettyMIDI(initial_tempo=120)
        lead = pretty_midi.Instrument(program=0)
        lead.notes = [pretty_midi.Note(90, 60 + index + step, i * 0.25, (i + 1) * 0.25)
                      for i, step in enumerate([0, 2, 4, 5, 7, 9, 11, 12] * 4)]
        midi.instruments.append(lead)
        midi.write(str(tunes / f"tune_{index}.mid"))
    options = TrainMusicOptions(data=str(tunes), out=str(folder / "run"), representation="melody",
                                config=str(REPO / "configs" / "tiny.yaml"))
    config = resolve_run_config(MUSIC, options.config, options.config_sets())
    return train_domain(MUSIC, tunes, folder / "run", config, device="cpu", show_progress=False).best_checkpoint


def spin(_: int) -> float:
    total = 0
    for i in range(3_000_000):
        total += i
    return total


def cpu_parallelism() -> float:
    """How much faster 8 pure-Python CPU tasks finish on 2 processes than on 1, right now: about 2.0 on
    2 idle cores, about 1.0 when other jobs already keep both cores busy. It tells what speed-up this
    machine could give any 2-worker run at the time of the measurement."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    times = {}
    for processes in (1, 2):
        with context.Pool(processes) as pool:
            pool.map(spin, range(processes))  # start-up out of the timing
            started = time.perf_counter()
            pool.map(spin, range(8), chunksize=1)
            times[processes] = time.perf_counter() - started
    return round(times[1] / times[2], 2)


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def run_phases(jobs: list[dict], launched: float, ended: float) -> dict:
    """Where a run's wall time went: before the first job began (interpreter, imports, planning, workers
    starting), after the last job ended (shutting workers down, report, interpreter exit), and how long
    the first worker to run out of jobs waited for the last one (end-of-queue imbalance)."""
    steps = [step for job in jobs for step in job.get("steps") or [job]]  # a job's steps may run on different workers
    ends: dict[int, float] = {}
    for step in steps:
        ends[step["worker"]] = max(ends.get(step["worker"], 0.0), step["started"] + step["seconds"])
    return {"before_first_job": min(step["started"] for step in steps) - launched,
            "after_last_job": ended - max(ends.values()),
            "idle_at_end": max(ends.values()) - min(ends.values()),
            "processes": len(ends)}


def median_phases(runs: list[dict]) -> dict:
    medians = {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}
    return {**medians, "what": "median seconds: before_first_job (start-up), after_last_job (shut-down and exit), "
                               "idle_at_end (first worker out of jobs waiting for the last), over the job processes"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--bars", type=int, default=64, help="length of each piece")
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULT)
    parser.add_argument("--rounds", type=int, default=3, help="runs per configuration, alternating (1, 2, 2, 1, 1, 2, ...)")
    args = parser.parse_args()
    command = " ".join([".venv/bin/python", "bench/batch_scaling.py", *map(shlex.quote, sys.argv[1:])])

    with tempfile.TemporaryDirectory(prefix="genseq-batch-bench-") as tmp:
        tmp = Path(tmp)
        bundled = assets_dir() / "music-melody.pt"
        if args.checkpoint is not None:
            checkpoint, model = args.checkpoint.resolve(), str(args.checkpoint)
        elif bundled.exists():
            checkpoint, model = bundled, "assets/music-melody.pt (bundled melody model)"
        else:
            checkpoint, model = tiny_checkpoint(tmp / "tiny"), "tiny melody model trained here (configs/tiny.yaml): assets/music-melody.pt was missing"
        rows = [{"kind": "music", "checkpoint": str(checkpoint), "output": f"job-{index:02d}",
                 "parameters": {"seed": index, "bars": args.bars, "temperature": 0.9, "wav": True, "png": True}}
                for index in range(args.jobs)]
        manifest = tmp / "manifest.yaml"
        manifest.write_text(yaml.safe_dump(rows, sort_keys=False))

        load_before = load_average()
        parallelism_before = cpu_parallelism()
        times: dict[int, list[float]] = {1: [], 2: []}
        job_seconds: dict[int, list[float]] = {1: [], 2: []}
        phases: dict[int, list[dict]] = {1: [], 2: []}
        order = [w for r in range(args.rounds) for w in ((1, 2) if r % 2 == 0 else (2, 1))]
        for number, workers in enumerate(order):
            root, report_path = tmp / f"out-{number}", tmp / f"report-{number}.json"
            started, launched = time.perf_counter(), time.time()
            completed = subprocess.run([sys.executable, "-m", "genseq.cli", "batch", str(manifest), "--out", str(root),
                                        "--workers", str(workers), "--runner", "process", "--report", str(report_path)],
                                       capture_output=True, text=True)
            seconds, ended = time.perf_counter() - started, time.time()
            report = json.loads(report_path.read_text()) if report_path.exists() else {}
            if completed.returncode != 0 or report.get("done") != args.jobs:
                sys.exit(f"batch_scaling: {workers} worker(s) failed:\n{completed.stdout}\n{completed.stderr[-2000:]}")
            times[workers].append(seconds)
            job_seconds[workers] += [job["seconds"] for job in report["jobs"]]
            phases[workers].append(run_phases(report["jobs"], launched, ended))
            print(f"{workers} worker(s): {seconds:.1f} s, {60 * args.jobs / seconds:.1f} jobs/min", flush=True)
        load_after = load_average()
        parallelism_after = cpu_parallelism()
        first = [(tmp / "out-0" / f"job-{i:02d}" / "sample_000.mid").read_bytes() for i in range(args.jobs)]
        identical = all([(tmp / f"out-{n}" / f"job-{i:02d}" / "sample_000.mid").read_bytes() for i in range(args.jobs)] == first
                        for n in range(1, len(order)))
        runs = {w: {"seconds": round(statistics.median(t), 2), "runs_seconds": [round(x, 2) for x in t],
                    "jobs_per_minute": round(60 * args.jobs / statistics.median(t), 2),
                    "mean_job_seconds": round(sum(job_seconds[w]) / len(job_seconds[w]), 2),
                    "phases": median_phases(phases[w])} for w, t in times.items()}

    speedup = runs[1]["seconds"] / runs[2]["seconds"]
    result = {
        "speedup": round(speedup, 3),
        "target_speedup": 1.7,
        "meets_target": speedup >= 1.7,
        "jobs": args.jobs,
        "job": f"music: sample {args.bars} bars, write MIDI, WAV (fluidsynth) and piano-roll PNG",
        "model": model,
        "one_worker": runs[1],
        "two_workers": runs[2],
        "runner": "genseq batch --runner process (1 worker: jobs run in the command's process; 2 workers: the "
                  "command's process plus 1 child forked after the heavy imports, on one queue of steps: jobs "
                  "longest first, each job's audio a step of its own, a few audio steps kept for the end; "
                  "1 torch thread each)",
        "measured": f"wall time of the whole command in a fresh process, median of {args.rounds} runs per configuration "
                    "(alternating order 1, 2, 2, 1, ...)",
        "speedup_of_each_round": [round(a / b, 3) for a, b in zip(runs[1]["runs_seconds"], runs[2]["runs_seconds"])],
        "identical_midi": identical,
        "cpu_parallelism": {"before": parallelism_before, "after": parallelism_after,
                            "what": "8 pure-Python CPU tasks on 2 processes vs 1, measured just before and after: "
                                    "2.0 = two free cores, 1.0 = other jobs already use the second core"},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load_before} at the start and "
                   f"{load_after} at the end (other jobs, e.g. model training, share these cores: figures vary run to run)",
        "command": command,
    }
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
