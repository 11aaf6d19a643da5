"""Nottingham piano-roll benchmark: test NLL per frame of the default model, with GRU and plain
RNN cells beside it under the same training budget, all trained by the `genseq` CLI itself.

Protocol (Boulanger-Lewandowski et al. 2012; Bai et al. 2018): sum of the 88 binary
cross-entropies of each predicted frame, the first frame of each piece not predicted, total
over all test frames divided by their count. Published: LSTM 3.29, GRU 3.46, RNN 4.05,
TCN 3.07 (Bai et al. 2018); LSTM 3.20 (Chung et al. 2014).

    python bench/nottingham_nll.py --minutes 20 [--parallel]

An existing run folder under --runs is resumed (genseq train resumes), up to the budget.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genseq.core.atomic import atomic_write_text  # noqa: E402

PUBLISHED = {"lstm": {"Bai et al. 2018": 3.29, "Chung et al. 2014": 3.20}, "gru": {"Bai et al. 2018": 3.46, "Chung et al. 2014": 3.23},
             "rnn": {"Bai et al. 2018": 4.05}, "tcn": {"Bai et al. 2018": 3.07}}


def genseq(*args: str) -> str:
    command = [sys.executable, "-m", "genseq.cli", *args]
    print("$", shlex.join(command), flush=True)
    result = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise SystemExit(f"command failed ({result.returncode}): {shlex.join(command)}")
    return result.stdout


def train_command(cell: str, data: Path, runs: Path, minutes: float) -> list[str]:
    return [sys.executable, "-m", "genseq.cli", "train", "music", "--representation", "pianoroll", "--steps-per-quarter", "1",
            "--data", str(data), "--out", str(runs / cell), "--cell", cell, "--max-minutes", str(minutes)]


def train_cells(cells: list[str], data: Path, runs: Path, minutes: float, parallel: bool) -> None:
    """Train every cell with the genseq CLI; in parallel, each process gets one thread and the same budget."""
    commands = [train_command(cell, data, runs, minutes) for cell in cells]
    if not parallel:
        for command in commands:
            print("$", shlex.join(command), flush=True)
            subprocess.run(command, cwd=REPO, check=True)
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    processes = []
    for command in commands:
        print("$", shlex.join(command), "&", flush=True)
        processes.append(subprocess.Popen(command, cwd=REPO, env=env))
    if any(p.wait() != 0 for p in processes):
        raise SystemExit("a training run failed")


def evaluate_cell(cell: str, data: Path, runs: Path, threads: int) -> dict:
    run_dir = runs / cell
    metrics = json.loads(genseq("eval", "--checkpoint", str(run_dir), "--data", str(data), "--json"))
    last = torch.load(run_dir / "last.pt", weights_only=True)
    state = last["train_state"]
    return {
        "cell": cell, "test_nll_per_frame": round(metrics["nll_per_frame"], 4), "test_frames": metrics["frames"],
        "best_valid_nll_per_frame": round(state["best_valid_loss"], 4), "params": last["params"],
        "epochs": state["epoch"], "train_seconds": round(state["train_seconds"], 1),
        "train_cpu_seconds": round(sum(h.get("cpu_seconds", 0.0) for h in state["history"]), 1),
        "epochs_with_cpu_seconds": sum("cpu_seconds" in h for h in state["history"]),
        "threads": threads, "published": PUBLISHED.get(cell, {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets" / "nottingham")
    parser.add_argument("--minutes", type=float, default=20.0, help="training budget per cell")
    parser.add_argument("--cells", default="lstm,gru,rnn")
    parser.add_argument("--parallel", action="store_true", help="train the cells at once, one thread each (fair on a shared machine)")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "bench-nottingham")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "nottingham_nll.json")
    args = parser.parse_args()
    if not (args.data / "test").is_dir():
        raise SystemExit(f"{args.data}: Nottingham data not found (expects train/ valid/ test/)")
    cells = args.cells.split(",")
    threads = 1 if args.parallel else torch.get_num_threads()
    started = time.perf_counter()
    train_cells(cells, args.data, args.runs, args.minutes, args.parallel)
    wall = time.perf_counter() - started
    rows = [evaluate_cell(cell, args.data, args.runs, threads) for cell in cells]
    print(f"\n{'cell':6} {'test NLL':>9} {'valid NLL':>9} {'params':>9} {'epochs':>6} {'train s':>8} {'cpu s':>7}  published")
    for row in rows:
        published = ", ".join(f"{v} ({k})" for k, v in row["published"].items())
        print(f"{row['cell']:6} {row['test_nll_per_frame']:9.4f} {row['best_valid_nll_per_frame']:9.4f} {row['params']:9d} "
              f"{row['epochs']:6d} {row['train_seconds']:8.0f} {row['train_cpu_seconds']:7.0f}  {published}")
    default = next((r for r in rows if r["cell"] == "lstm"), rows[0])
    result = {
        "benchmark": "nottingham_nll", "protocol": "sum of 88 BCEs per predicted frame, first frame of each piece not predicted, "
        "mean over all test frames (nats)", "test_nll_per_frame": default["test_nll_per_frame"], "params": default["params"],
        "train_seconds": default["train_seconds"], "budget_minutes_per_cell": args.minutes, "target": "below 3.07 (TCN, Bai et al. 2018)",
        "ratio_to_tcn": round(default["test_nll_per_frame"] / 3.07, 4), "cells": rows, "wall_seconds_all_cells": round(wall, 1),
        "machine": f"{os.cpu_count()} cores, {threads} torch thread(s) per run" + (", cells trained at once" if args.parallel else ""),
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "note": "train_seconds is wall-clock on cores shared with other jobs; runs under --runs are resumed, so a "
                "re-run only re-evaluates finished runs",
        "command": shlex.join(["python", "bench/nottingham_nll.py", *sys.argv[1:]]),
    }
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
