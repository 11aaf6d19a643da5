"""Time to quality: how soon `genseq train` on this machine's cores reaches Nottingham <= 2.30 nats a
frame (the joint-keys RNN-NADE head, the likelihood benchmark's quarter-note frames and protocol: see
bench/nottingham_nll.py), with the classic independent-keys Bernoulli head's curve beside it.

Each head is trained by the genseq CLI with its defaults (configs/music-pianoroll.yaml; the thread budget
gives a lone run every core), one head after the other so each has the machine to itself, for --minutes
of training. The curve is held-out (validation) NLL a frame against wall time since the command started
(data loading and model building included); the wall time of an epoch is when its line reached us. The
best checkpoint is then scored on the test split.

    python bench/time_to_quality.py --minutes 14

--reuse takes finished runs under --runs instead of training (their curve from the checkpoint's history:
each epoch's wall time is then bounded from above by the command's recorded start and end).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genseq.core.atomic import atomic_write_text  # noqa: E402

TARGET_NLL = 2.30
TARGET_MINUTES = 15.0
HEADS = ("nade", "bernoulli")
EPOCH_LINE = re.compile(r"epoch (\d+): train ([\d.]+)\s+valid ([\d.]+)")


def train_command(head: str, data: Path, run_dir: Path, minutes: float) -> list[str]:
    return [sys.executable, "-m", "genseq.cli", "train", "music", "--representation", "pianoroll", "--steps-per-quarter", "1",
            "--data", str(data), "--out", str(run_dir), "--set", f"model.head={head}", "--max-minutes", str(minutes)]


def train_streaming(command: list[str], run_dir: Path) -> list[dict]:
    """Run a training, timestamping each epoch line as it arrives."""
    print("$", shlex.join(command), flush=True)
    started = time.time()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    curve = []
    for line in process.stdout:
        print(line, end="", flush=True)
        if match := EPOCH_LINE.search(line):
            curve.append({"epoch": int(match[1]), "wall_seconds": round(time.time() - started, 1), "valid_nll": float(match[3])})
    if process.wait() != 0:
        raise SystemExit(f"training failed: {shlex.join(command)}")
    (run_dir / "wall.json").write_text(json.dumps({"started": started, "ended": time.time()}))
    return curve


def curve_from_history(run_dir: Path) -> list[dict]:
    """An epoch ends no later than the recorded end less the epochs after it."""
    wall = json.loads((run_dir / "wall.json").read_text())
    history = torch.load(run_dir / "last.pt", weights_only=True)["train_state"]["history"]
    total = wall["ended"] - wall["started"]
    curve, after = [], sum(h["seconds"] for h in history)
    for record in history:
        after -= record["seconds"]
        curve.append({"epoch": record["epoch"], "wall_seconds": round(total - after, 1), "valid_nll": round(record["valid_loss"], 4),
                      "bound": "upper"})
    return curve


def test_nll(run_dir: Path, data: Path) -> float:
    command = [sys.executable, "-m", "genseq.cli", "eval", "--checkpoint", str(run_dir), "--data", str(data), "--json"]
    result = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(result.stdout)["nll_per_frame"]


def head_row(head: str, run_dir: Path, curve: list[dict], data: Path) -> dict:
    state = torch.load(run_dir / "last.pt", weights_only=True)["train_state"]
    reached = next((point for point in curve if point["valid_nll"] <= TARGET_NLL), None)
    return {
        "head": head, "epochs": state["epoch"], "best_valid_nll": round(state["best_valid_loss"], 4),
        "test_nll_of_best": round(test_nll(run_dir, data), 4),
        "train_cpu_seconds": round(sum(h.get("cpu_seconds", 0.0) for h in state["history"]), 1),
        "reached_target_at_wall_seconds": reached and reached["wall_seconds"],
        "reached_target_at_epoch": reached and reached["epoch"], "curve": curve,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets" / "nottingham")
    parser.add_argument("--minutes", type=float, default=14.0, help="training budget of each head")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "ttq")
    parser.add_argument("--reuse", action="append", default=[], choices=HEADS, help="score this head's finished run instead of training")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "time_to_quality.json")
    args = parser.parse_args()
    if not (args.data / "test").is_dir():
        raise SystemExit(f"{args.data}: Nottingham data not found (expects train/ valid/ test/)")
    rows = []
    for head in HEADS:
        run_dir = args.runs / head
        load_before = os.getloadavg()[0]
        curve = curve_from_history(run_dir) if head in args.reuse else train_streaming(
            train_command(head, args.data, run_dir, args.minutes), run_dir)
        rows.append({**head_row(head, run_dir, curve, args.data), "load_average_before": round(load_before, 2)})
        print(f"{head}: best valid {rows[-1]['best_valid_nll']:.4f}, test {rows[-1]['test_nll_of_best']:.4f}, "
              f"<= {TARGET_NLL} at {rows[-1]['reached_target_at_wall_seconds']} s", flush=True)
    nade = rows[0]
    reached = nade["reached_target_at_wall_seconds"]
    result = {
        "benchmark": "time_to_quality",
        "protocol": "Nottingham quarter-note frames, NLL a frame of the 88 keys (bench/nottingham_nll.py's protocol); the curve "
                    "is validation NLL against wall seconds since the training command started; the test NLL is the best checkpoint's",
        "target": {"nottingham_nll_at_most": TARGET_NLL, "within_wall_minutes": TARGET_MINUTES},
        "met": bool(reached is not None and reached <= TARGET_MINUTES * 60 and nade["test_nll_of_best"] <= TARGET_NLL),
        "machine": f"{os.cpu_count()} cores, {torch.get_num_threads()} torch threads a run (genseq's thread budget), one run at a time",
        "heads": rows,
        **({"note": f"{', '.join(args.reuse)}: trained before by the same train command run by hand (its start and end "
                    "recorded in RUN/wall.json); its epochs' wall times are upper bounds"} if args.reuse else {}),
        "command": shlex.join(["python", "bench/time_to_quality.py", *sys.argv[1:]]),
    }
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
