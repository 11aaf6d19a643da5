"""LSTM, GRU and plain RNN on our own models and data: at the same width and at the same parameter count,
on Nottingham (piano roll, one step a quarter, 88 independent keys: the published cell comparison's
setting) and on the melody corpus (O'Neill's tunes + chorale sopranos, 16th-note grid, the bundled
melody model's config). Each run trains through genseq.model.train.train_domain (what `genseq train
music` runs) for the same fixed budget on one thread, one run at a time; a corpus's files are read once.

    nohup .venv/bin/python bench/cells.py --minutes 3 > runs/cells/log.txt 2>&1 &

Per run: parameters, training frames a second (forward + backward + Adam on batches of the config's
shape, timed apart), the held-out (validation) NLL curve against training time, the best in the budget,
the time to reach the loss every cell of that corpus reached (the worst best), by the clock and by the
process's CPU time (the machine is shared: cpu_share says how much of a core a run got), and the sampled
step's p50 at batch 1 (the Sampler's prepared step). The seeds' claims checked: a GRU has about 25 % fewer
parameters than an LSTM of the same width, trains faster, runs about 37 % faster, at comparable quality.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from genseq.core.atomic import atomic_write_text  # noqa: E402
from genseq.core.config import ModelConfig  # noqa: E402
from genseq.core.resources import parameter_count  # noqa: E402

CORPORA = {
    "nottingham": {"data": REPO.parent / "shared" / "datasets" / "nottingham", "representation": "pianoroll",
                   "sets": ["representation=pianoroll", "steps_per_quarter=1", "model.head=bernoulli", "model.dropout=0.3",
                            "train.max_batches_per_epoch=25"],
                   "input_size": 88 + 13, "output_size": 88, "width": 256},
    "melody": {"data": REPO / "runs" / "samples" / "tunes-4spq.npz", "representation": "melody",
               "sets": ["representation=melody", "steps_per_quarter=4", "train.max_batches_per_epoch=20"],
               "input_size": 104, "output_size": 63, "width": 192},
}
CELLS = ("lstm", "gru", "rnn")


def matched_width(cell: str, target: int, corpus: dict) -> int:
    """The hidden size at which `cell` has about as many parameters as `target`."""
    count = lambda width: parameter_count(ModelConfig(cell=cell, hidden_size=width, num_layers=2), corpus["input_size"],  # noqa: E731
                                          corpus["output_size"])
    return min(range(8, 4 * corpus["width"]), key=lambda width: abs(count(width) - target))


class SplitReadOnce:
    """The music domain with each data set's split read once (Nottingham's 1,037 MIDI files take a minute)."""

    def __init__(self, domain):
        self.domain, self.splits = domain, {}

    def __getattr__(self, name):
        return getattr(self.domain, name)

    def load_split(self, data, config):
        key = (str(data), config.steps_per_quarter, config.train.seed)
        if key not in self.splits:
            self.splits[key] = self.domain.load_split(data, config)
        return self.splits[key]


def train_run(name: str, corpus: dict, cell: str, width: int, minutes: float, runs: Path, domain) -> dict:
    from genseq.core.domain import resolve_run_config
    from genseq.model.train import train_domain

    out = runs / name
    sets = corpus["sets"] + [f"model.cell={cell}", f"model.hidden_size={width}", f"train.max_minutes={minutes}",
                             "train.patience=1000", "train.epochs=10000"]
    torch.set_num_threads(1)
    started = time.perf_counter()
    result = train_domain(domain, corpus["data"], out, resolve_run_config(domain, None, sets), "cpu", show_progress=False)
    wall = time.perf_counter() - started
    elapsed, cpu, curve, cpu_curve = 0.0, 0.0, [], []
    for record in result.history:
        elapsed, cpu = elapsed + record["seconds"], cpu + record["cpu_seconds"]
        curve.append([round(elapsed, 1), round(record["valid_loss"], 4)])
        cpu_curve.append([round(cpu, 1), round(record["valid_loss"], 4)])
    payload = torch.load(out / "best.pt", map_location="cpu", weights_only=False)
    return {"cell": cell, "hidden_size": width, "params": result.params, "epochs": result.epochs_run,
            "best_valid_nll": round(result.best_valid_loss, 4), "curve_seconds_nll": curve, "curve_cpu_seconds_nll": cpu_curve,
            "wall_seconds": round(wall, 1), "cpu_share": round(cpu / max(elapsed, 1e-9), 2),
            "train_frames_per_second": train_frames_per_second(payload), "step_p50_us": step_latency(out / "best.pt"),
            "genseq_command": shlex.join(["genseq", "train", "music", "--data", str(corpus["data"]), "--out", str(out),
                                          *[part for s in sets for part in ("--set", s)]])}


def train_frames_per_second(payload: dict, batches: int = 6) -> float:
    """Forward + backward + Adam on batches of the run's shape (batch 16 x seq_len), one thread."""
    from genseq.model.recurrent import StackedRecurrent

    torch.set_num_threads(1)
    config = payload["config"]
    model = StackedRecurrent(ModelConfig.model_validate(config["model"]), payload["input_size"], payload["output_size"],
                             payload.get("head"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch, length = config["train"]["batch_size"], config["train"]["seq_len"]
    inputs = (torch.rand(batch, length, payload["input_size"]) < 0.05).float()
    targets = torch.randint(0, payload["output_size"], (batch, length)) if payload["head"] == "categorical" \
        else (torch.rand(batch, length, payload["output_size"]) < 0.05).float()
    times = []
    for index in range(batches + 1):
        started = time.perf_counter()
        outputs, _ = model(inputs)
        loss = model.step_losses(payload["head"], outputs, targets).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if index:
            times.append(time.perf_counter() - started)
    return round(batch * length / float(np.median(times)))


def step_latency(checkpoint: Path, steps: int = 1500) -> float:
    """p50 (us) of a sampled step at batch 1 through the Sampler (bench/step_speed's loop)."""
    import step_speed

    torch.set_num_threads(1)
    step_speed.limit_blas_threads(1)
    model, head, encoding = step_speed.load(str(checkpoint), REPO)
    inputs = step_speed.Inputs(encoding, steps + 400)
    sampling = step_speed.SamplingOptions(top_p=0.95) if head == "categorical" else step_speed.SamplingOptions()
    loop = step_speed.sampler_loop(model, head, inputs, 1, sampling, active=head == "categorical")
    return step_speed.summary(step_speed.timed_loop(*loop, steps))["p50_us"]


def limit_blas_threads(threads: int) -> None:
    import step_speed

    step_speed.limit_blas_threads(threads)


def time_to(curve: list, loss: float) -> float | None:
    return next((seconds for seconds, value in curve if value <= loss), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0, help="training budget of each run")
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA))
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "cells")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "cells.json")
    args = parser.parse_args()
    from genseq.music.domain import MUSIC

    os.environ["GENSEQ_THREADS"] = "1"
    limit_blas_threads(1)
    domain, results = SplitReadOnce(MUSIC), {}
    for corpus_name in args.corpora:
        corpus = CORPORA[corpus_name]
        lstm_params = parameter_count(ModelConfig(hidden_size=corpus["width"], num_layers=2), corpus["input_size"], corpus["output_size"])
        plan = [(cell, corpus["width"], "same_width") for cell in CELLS]
        plan += [(cell, matched_width(cell, lstm_params, corpus), "same_params") for cell in CELLS[1:]]
        rows = {}
        for cell, width, sizing in plan:
            name = f"{corpus_name}-{cell}-{sizing}"
            rows[name] = {"sizing": sizing, **train_run(name, corpus, cell, width, args.minutes, args.runs, domain)}
            print(name, json.dumps({k: v for k, v in rows[name].items() if not k.startswith("curve")}), flush=True)
        reached = [row["best_valid_nll"] for row in rows.values() if "best_valid_nll" in row]
        common = max(reached) if reached else None
        for row in rows.values():
            if "curve_seconds_nll" in row:
                row["seconds_to_common_nll"] = time_to(row["curve_seconds_nll"], common)
                row["cpu_seconds_to_common_nll"] = time_to(row["curve_cpu_seconds_nll"], common)
        results[corpus_name] = {"common_nll": common, "runs": rows}
        write(args, results)


def write(args, results: dict) -> None:
    record = {"benchmark": "cells", "minutes_per_run": args.minutes, "threads": 1, "machine": f"{os.cpu_count()} cores shared",
              "load_average_at_end": os.getloadavg(), "corpora": results,
              "note": "held-out NLL: the validation split, nats per frame (Nottingham: sum of 88 keys' BCE; melody: per 16th step)",
              "command": shlex.join(["python", "bench/cells.py", *sys.argv[1:]])}
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
