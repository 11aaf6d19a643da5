"""Two trainings that share the machine: started together, do they finish no later than the same two
run one after the other? Each is a `genseq train music` process (configs/tiny.yaml, made a little larger,
on Nottingham's validation pieces extracted to a temporary .npz), timed from start to exit.

    .venv/bin/python bench/shared_training.py [--rounds 2]

Modes, each timed in every round (the order rotates between rounds):
- one_after_the_other: A, then B, each alone (the thread budget gives each all the cores);
- together: A and B started at once under the thread budget (cores // runs in flight);
- together_every_core_each: A and B at once with GENSEQ_THREADS = the cores, what each process did
  before the budget (torch's default of one thread per core).
Target (issue 22): together finishes no later than one_after_the_other. With --sessions each training
starts in a session of its own, as from two terminals or the service: Linux (autogroup scheduling) shares
a busy machine among sessions first, so two runs of one session split that session's share.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genseq.core.atomic import atomic_write_text  # noqa: E402
from genseq.core.resources import usable_cores  # noqa: E402

GENSEQ = str(REPO / ".venv" / "bin" / "genseq")
DATA = REPO.parent / "shared" / "datasets" / "nottingham" / "valid"
SETS = ["model.hidden_size=96", "train.max_batches_per_epoch=12", "train.epochs=4", "train.batch_size=16", "train.seq_len=64"]


def command(data: Path, out: Path) -> list[str]:
    return [GENSEQ, "train", "music", "--data", str(data), "--out", str(out), "--config", str(REPO / "configs" / "tiny.yaml"),
            *[part for item in SETS for part in ("--set", item)]]


def environment(threads: int | None) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GENSEQ_THREADS", "GENSEQ_THREAD_BUDGET")}
    return {**env, "GENSEQ_THREADS": str(threads)} if threads else env


def run_together(data: Path, scratch: Path, tag: str, threads: int | None, sessions: bool) -> dict:
    started = time.perf_counter()
    processes = [subprocess.Popen(command(data, scratch / f"{tag}-{name}"), env=environment(threads), start_new_session=sessions,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for name in "AB"]
    ends = []
    for process in processes:
        _, err = process.communicate()
        if process.returncode:
            raise SystemExit(f"training failed: {err.decode()[-800:]}")
        ends.append(time.perf_counter() - started)
    return {"finished_seconds": round(max(ends), 2), "each_seconds": [round(end, 2) for end in ends]}


def run_one_after_the_other(data: Path, scratch: Path, tag: str, sessions: bool) -> dict:
    started, ends = time.perf_counter(), []
    for name in "AB":
        subprocess.run(command(data, scratch / f"{tag}-{name}"), env=environment(None), check=True, start_new_session=sessions,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ends.append(time.perf_counter() - started)
    return {"finished_seconds": round(ends[-1], 2), "each_seconds": [round(ends[0], 2), round(ends[1] - ends[0], 2)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sessions", action="store_true",
                        help="start each training in its own session, as two terminals or the service would (Linux's "
                             "autogroup scheduling shares the CPU among sessions first, then among a session's processes)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "shared_training.json")
    args = parser.parse_args()
    cores = usable_cores()
    sessions = args.sessions
    modes = {"one_after_the_other": lambda d, s, t: run_one_after_the_other(d, s, t, sessions),
             "together": lambda d, s, t: run_together(d, s, t, None, sessions),
             "together_every_core_each": lambda d, s, t: run_together(d, s, t, cores, sessions)}
    rounds = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        data = scratch / "nottingham-valid.npz"
        subprocess.run([GENSEQ, "extract", "music", str(DATA), "--out", str(data), "--steps-per-quarter", "1"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for number in range(args.rounds):
            names = list(modes)[number % len(modes):] + list(modes)[:number % len(modes)]
            row = {}
            for name in names:
                row[name] = modes[name](data, scratch, f"r{number}-{name}")
                print(number, name, row[name], flush=True)
            rounds.append(row)
    best = {name: min(row[name]["finished_seconds"] for row in rounds) for name in modes}
    record = {"benchmark": "shared_training", "cores": cores, "own_sessions": sessions, "rounds": rounds, "best_finished_seconds": best,
              "together_vs_one_after_the_other": round(best["together"] / best["one_after_the_other"], 3),
              "every_core_each_vs_one_after_the_other": round(best["together_every_core_each"] / best["one_after_the_other"], 3),
              "target": "together_vs_one_after_the_other <= 1.0", "load_average_at_end": os.getloadavg(),
              "training": shlex.join(command(Path("DATA.npz"), Path("OUT"))[1:]),
              "command": shlex.join(["python", "bench/shared_training.py", *sys.argv[1:]])}
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(json.dumps(best), record["together_vs_one_after_the_other"])


if __name__ == "__main__":
    main()
