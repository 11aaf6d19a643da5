"""Piano-roll likelihood benchmark: test NLL per frame of the default model (the joint-keys
RNN-NADE head) with the classic 88-independent-Bernoulli head beside it under the same training
budget, on Nottingham and on the music21 Bach chorales; all trained by the `genseq` CLI itself.

Protocol (Boulanger-Lewandowski et al. 2012; Bai et al. 2018): negative log-likelihood of each
predicted frame's 88 keys, the first frame of each piece not predicted, total over all test
frames divided by their count (nats). Published, Nottingham: RNN-NADE 2.31, RNN-RBM 2.39,
TCN 3.07, LSTM 3.29 (Bai et al. 2018); JSB chorales: RNN-NADE 5.56, RNN-RBM 7.27, TCN 8.10.
Our chorales are music21's (all four voices, one step per quarter, seeded split), not the JSB
files, so their figures compare the two heads, not the papers.

    python bench/nottingham_nll.py --minutes 55 --chorale-minutes 20 --parallel

An existing run folder under --runs is resumed (genseq train resumes), up to the budget; both
heads of a corpus train at once, one thread each. Sampling speed: frames per second of one
continuation (batch 1) on one thread, the one stateful sampler, genseq.model.sampler.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genseq.core.atomic import atomic_write_text  # noqa: E402
from genseq.core.notes import load_sequences, save_sequences  # noqa: E402

PUBLISHED = {
    "nottingham": {"RNN-NADE (Boulanger-Lewandowski et al. 2012)": 2.31, "RNN-RBM (ibid.)": 2.39,
                   "TCN (Bai et al. 2018)": 3.07, "LSTM (Bai et al. 2018)": 3.29},
    "chorales": {"RNN-NADE on JSB (Boulanger-Lewandowski et al. 2012)": 5.56, "TCN on JSB (Bai et al. 2018)": 8.10},
}
HEADS = ("nade", "bernoulli")
TARGETS = {"nottingham_nade_at_most": 2.30, "chorales_nade_below_bernoulli_by": 2.0, "sampling_frames_per_second": 100}


def genseq(*args: str) -> str:
    command = [sys.executable, "-m", "genseq.cli", *args]
    print("$", shlex.join(command), flush=True)
    result = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise SystemExit(f"command failed ({result.returncode}): {shlex.join(command)}")
    return result.stdout


def train_command(name: str, data: Path, run_dir: Path, minutes: float, sets: tuple[str, ...] = ()) -> list[str]:
    """`name` is a head, or a variant NAME whose run folder's settings are `sets` (--set KEY=VALUE)."""
    sets = sets or (f"model.head={name}",)
    return [sys.executable, "-m", "genseq.cli", "train", "music", "--representation", "pianoroll", "--steps-per-quarter", "1",
            "--data", str(data), "--out", str(run_dir), *[arg for s in sets for arg in ("--set", s)], "--max-minutes", str(minutes)]


def train_heads(data: Path, runs: Path, minutes: float, parallel: bool, variants: dict[str, tuple[str, ...]]) -> float:
    """Train both heads (and any variants) with the genseq CLI; in parallel each process gets one
    thread and the same budget."""
    commands = [train_command(head, data, runs / head, minutes) for head in HEADS]
    commands += [train_command(name, data, runs / name, budget or minutes, sets) for name, (sets, budget) in variants.items()]
    started = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"} if parallel else None
    processes = []
    for command in commands:
        print("$", shlex.join(command), "&" if parallel else "", flush=True)
        processes.append(subprocess.Popen(command, cwd=REPO, env=env))
        if not parallel and processes[-1].wait() != 0:
            raise SystemExit("a training run failed")
    if any(p.wait() != 0 for p in processes):
        raise SystemExit("a training run failed")
    return time.perf_counter() - started


def chorales_dataset(runs: Path) -> Path:
    """The music21 Bach chorales, all voices, one step per quarter (extracted once)."""
    path = runs / "chorales.npz"
    if not path.exists():
        runs.mkdir(parents=True, exist_ok=True)
        genseq("extract", "music", "--corpus", "bach-chorales", "--voices", "all", "--steps-per-quarter", "1", "--out", str(path))
    return path


def test_split_file(dataset: Path, run_dir: Path) -> Path:
    """The test pieces of a run's seeded split (named in its data.json) as their own dataset file."""
    names = set(json.loads((run_dir / "data.json").read_text())["test"])
    path = run_dir / "test.npz"
    save_sequences([s for s in load_sequences(dataset) if s.name in names], path)
    return path


@torch.no_grad()
def sampling_speed(checkpoint: Path, frames: int = 400) -> tuple[float, float]:
    """Frames per second (wall, and per CPU second of this process: robust to other jobs on the
    cores) of one stateful continuation on one thread (the inputs' metric part left at zero: it
    costs the same)."""
    from genseq.core.options import SamplingOptions
    from genseq.model.load import load_model
    from genseq.model.sampler import Sampler, sample_continuations
    from genseq.music.domain import MUSIC

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        loaded = load_model(checkpoint, MUSIC, "cpu")
        model, payload = loaded.model, loaded.payload
        keys, extra = payload["output_size"], payload["input_size"] - payload["output_size"]
        next_input = lambda values, index: torch.cat([values, torch.zeros(len(values), extra)], dim=1)  # noqa: E731
        primer = np.zeros((1, payload["input_size"]), dtype=np.float32)
        sample_continuations(Sampler(model, payload["head"], SamplingOptions(seed=1)), primer, next_input, 20)  # warm-up
        started, cpu_started = time.perf_counter(), time.process_time()
        sample_continuations(Sampler(model, payload["head"], SamplingOptions(seed=0)), primer, next_input, frames)
        return frames / (time.perf_counter() - started), frames / (time.process_time() - cpu_started)
    finally:
        torch.set_num_threads(threads)


@functools.lru_cache(maxsize=None)
def folder_train_frames(dataset: Path) -> int:
    from genseq.music.domain import load_music_split

    return sum(s.total_steps - 1 for s in load_music_split(dataset, 1).train)


def train_frames(dataset: Path, run_dir: Path) -> int:
    """Predicted frames in one training epoch: every training piece's steps but its first."""
    names = set(json.loads((run_dir / "data.json").read_text())["train"])
    if dataset.is_dir():
        return folder_train_frames(dataset)
    return sum(s.total_steps - 1 for s in load_sequences(dataset) if s.name in names)


def evaluate_head(head: str, run_dir: Path, test_data: Path, frames_per_epoch: int) -> dict:
    metrics = json.loads(genseq("eval", "--checkpoint", str(run_dir), "--data", str(test_data), "--json"))
    last = torch.load(run_dir / "last.pt", weights_only=True)
    state = last["train_state"]
    cpu = sum(h.get("cpu_seconds", 0.0) for h in state["history"])
    sampling, sampling_cpu = sampling_speed(run_dir / "best.pt")
    return {
        "head": head, "test_nll_per_frame": round(metrics["nll_per_frame"], 4), "test_frames": metrics["frames"],
        "best_valid_nll_per_frame": round(state["best_valid_loss"], 4), "params": last["params"],
        "epochs": state["epoch"], "best_epoch": max((h["epoch"] for h in state["history"] if h["best"]), default=0),
        "train_seconds": round(state["train_seconds"], 1), "train_cpu_seconds": round(cpu, 1),
        "train_frames_per_epoch": frames_per_epoch,
        "train_frames_per_second": round(frames_per_epoch * state["epoch"] / max(state["train_seconds"], 1e-9), 1),
        "train_frames_per_cpu_second": round(frames_per_epoch * state["epoch"] / max(cpu, 1e-9), 1),
        "sampling_frames_per_second": round(sampling, 1), "sampling_frames_per_cpu_second": round(sampling_cpu, 1),
    }


def run_corpus(name: str, data: Path, runs: Path, minutes: float, parallel: bool, variants: dict | None = None) -> dict:
    variants = variants or {}
    wall = train_heads(data, runs, minutes, parallel, variants)
    rows = []
    for head in (*HEADS, *variants):
        test_data = data if data.is_dir() else test_split_file(data, runs / head)
        rows.append(evaluate_head(head, runs / head, test_data, train_frames(data, runs / head)))
        if head in variants:
            rows[-1]["settings"] = list(variants[head][0])
            rows[-1]["budget_minutes"] = variants[head][1] or minutes
    nade, bernoulli = rows[:2]
    return {"corpus": name, "data": str(data), "budget_minutes_per_head": minutes, "wall_seconds_both_heads": round(wall, 1),
            "test_nll_per_frame": nade["test_nll_per_frame"],
            "nade_gain_over_bernoulli": round(bernoulli["test_nll_per_frame"] - nade["test_nll_per_frame"], 4),
            "heads": rows, "published": PUBLISHED[name]}


def print_corpus(result: dict) -> None:
    print(f"\n{result['corpus']}: {'head':9} {'test NLL':>9} {'valid':>7} {'params':>8} {'epochs':>6} {'train s':>7} "
          f"{'fr/s':>6} {'fr/cpu-s':>8} {'sample fr/s':>11} {'per cpu-s':>9}")
    for row in result["heads"]:
        print(f"{'':{len(result['corpus']) + 2}}{row['head']:9} {row['test_nll_per_frame']:9.4f} {row['best_valid_nll_per_frame']:7.4f} "
              f"{row['params']:8d} {row['epochs']:6d} {row['train_seconds']:7.0f} {row['train_frames_per_second']:6.0f} "
              f"{row['train_frames_per_cpu_second']:8.0f} {row['sampling_frames_per_second']:11.0f} "
              f"{row['sampling_frames_per_cpu_second']:9.0f}")
    print("  published:", ", ".join(f"{k} {v}" for k, v in result["published"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets" / "nottingham")
    parser.add_argument("--minutes", type=float, default=55.0, help="Nottingham training budget per head")
    parser.add_argument("--chorale-minutes", type=float, default=20.0, help="chorales training budget per head (0: skip)")
    parser.add_argument("--parallel", action="store_true", help="train both heads at once, one thread each (fair on a shared machine)")
    parser.add_argument("--runs", type=Path, default=REPO / "runs")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE[,KEY=VALUE][@MINUTES]",
                        help="also train a variant of the default on Nottingham (e.g. nade-transpose0:train.transpose=0@70)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "nottingham_nll.json")
    args = parser.parse_args()
    if not (args.data / "test").is_dir():
        raise SystemExit(f"{args.data}: Nottingham data not found (expects train/ valid/ test/)")
    variants = {}
    for variant in args.variant:
        name, rest = variant.split(":", 1)
        sets, _, budget = rest.partition("@")
        variants[name] = (tuple(sets.split(",")), float(budget) if budget else None)
    corpora = [run_corpus("nottingham", args.data, args.runs / "bench-nottingham", args.minutes, args.parallel, variants)]
    if args.chorale_minutes:
        chorales = chorales_dataset(args.runs / "bench-chorales")
        corpora.append(run_corpus("chorales", chorales, args.runs / "bench-chorales", args.chorale_minutes, args.parallel))
    for corpus in corpora:
        print_corpus(corpus)
    nottingham = corpora[0]
    result = {
        "benchmark": "nottingham_nll", "protocol": "NLL of the 88 keys of each predicted frame, first frame of each piece not "
        "predicted, mean over all test frames (nats); default config configs/music-pianoroll.yaml, --set model.head=bernoulli "
        "for the baseline", "test_nll_per_frame": nottingham["test_nll_per_frame"], "targets": TARGETS,
        "params": nottingham["heads"][0]["params"], "train_seconds": nottingham["heads"][0]["train_seconds"],
        "corpora": corpora,
        "machine": f"{os.cpu_count()} cores, " + ("1 torch thread per run, both heads trained at once" if args.parallel
                                                   else f"{torch.get_num_threads()} torch threads"),
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "note": "train_seconds is wall-clock on cores shared with other jobs (train_cpu_seconds: this process's CPU); runs "
                "under --runs are resumed, so a re-run only re-evaluates finished runs",
        "command": shlex.join(["python", "bench/nottingham_nll.py", *sys.argv[1:]]),
    }
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
