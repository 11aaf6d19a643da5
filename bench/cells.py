"""LSTM, GRU and plain RNN on our own models and data: at the same width and at the same parameter count,
on Nottingham (piano roll, one step a quarter, 88 independent keys: the published cell comparison's
setting) and on the melody corpus (O'Neill's tunes + chorale sopranos, 16th-note grid, the bundled
melody model's config). Each run trains through genseq.model.train.train_domain (what `genseq train
music` runs) for the same fixed budget on one thread, one run at a time; a corpus's files are read once.
The same-width runs of every corpus go first; a run that would end after --deadline is skipped (and
recorded as skipped).

    OMP_NUM_THREADS=1 GENSEQ_THREADS=1 nohup .venv/bin/python bench/cells.py --minutes 6 \
        --deadline 18:25 --runs runs/cells-6m > runs/cells-6m.log 2>&1 &

Per run: parameters, training frames a second (forward + backward + Adam on batches of the config's
shape, timed apart), the held-out (validation) NLL curve against training time, the best in the budget,
the time to reach the loss every cell of that corpus reached (the worst best), by the clock and by the
process's CPU time (the machine is shared: cpu_share says how much of a core a run got), and the sampled
step's p50 at batch 1 (the Sampler's prepared step), the sample statistics of bench/music_samples (its
held-out pieces, its generation call and its comparison: real-vs-real, unprimed and primed, worst |d mean|
in sd), and the held-out NLL of a step seen through only its last k inputs (the state started from zero k
steps back), which shows how far back each cell's predictions use the past. The seeds' claims checked:
a GRU has about 25 % fewer parameters than an LSTM of the same width, trains faster, runs about 37 %
faster, at comparable quality; a plain RNN forgets after about ten steps.
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

import music_samples  # noqa: E402  (the sample statistics: the same held-out pieces, generation and comparison)
import step_speed  # noqa: E402  (its step loop, imported now: the code a long run measures is the code it started with)

CORPORA = {
    "nottingham": {"data": REPO.parent / "shared" / "datasets" / "nottingham", "representation": "pianoroll",
                   "sets": ["representation=pianoroll", "steps_per_quarter=1", "model.head=bernoulli", "model.dropout=0.3",
                            "train.max_batches_per_epoch=25"],
                   "steps_per_quarter": 1, "input_size": 88 + 13, "output_size": 88, "width": 256},
    "melody": {"data": REPO / "runs" / "samples" / "tunes-4spq.npz", "representation": "melody",
               "sets": ["representation=melody", "steps_per_quarter=4", "train.max_batches_per_epoch=20"],
               "steps_per_quarter": 4, "input_size": 104, "output_size": 63, "width": 192},
}
CELLS = ("lstm", "gru", "rnn")
CONTEXTS = (1, 2, 4, 8, 16, 32, 64)  # the inputs a step is predicted from in the forgetting measure


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
    if (out / "last.pt").exists():  # train_domain would resume it: another budget's run, not this one
        raise SystemExit(f"cells: {out} holds a run already; give another --runs folder")
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
            "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "cpu_share": round(cpu / max(elapsed, 1e-9), 2),
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
    torch.set_num_threads(1)
    step_speed.limit_blas_threads(1)
    model, head, encoding = step_speed.load(str(checkpoint), REPO)
    inputs = step_speed.Inputs(encoding, steps + 400)
    sampling = step_speed.SamplingOptions(top_p=0.95) if head == "categorical" else step_speed.SamplingOptions()
    loop = step_speed.sampler_loop(model, head, inputs, 1, sampling, active=head == "categorical")
    return step_speed.summary(step_speed.timed_loop(*loop, steps))["p50_us"]


def limit_blas_threads(threads: int) -> None:
    step_speed.limit_blas_threads(threads)


def held_out_pieces(corpus: dict) -> list:
    """bench/music_samples' held-out pieces of the corpus (a melody model's: their top line)."""
    return music_samples.held_out(corpus["data"], corpus["steps_per_quarter"], corpus["representation"] == "melody")


def sample_statistics(checkpoint: Path, real: list, bars: int, pieces: int, scratch: Path) -> dict:
    """bench/music_samples' comparison for this model: `pieces` unprimed samples and primed continuations
    of `bars` bars (the CLI's sampling defaults) against the held-out pieces, real-vs-real beside them."""
    sampling = music_samples.default_sampling()
    unprimed, primed = music_samples.sample_modes(checkpoint, real, sampling, bars, pieces, scratch)
    modes = music_samples.mode_rows(real, unprimed, primed, bars)
    return {"sampling": sampling, "bars": bars, "pieces": pieces,
            "worst_sd": {mode: row["worst_distance_sd"] for mode, row in modes.items()}, "modes": modes}


def context_nll(checkpoint: Path, real: list, positions: int = 384, seed: int = 0) -> dict:
    """Held-out NLL (nats a step) of the same `positions` steps predicted from only their last k inputs
    (the state zero k steps back), for each k of CONTEXTS, and from the whole piece before them ("all")."""
    from genseq.model.load import load_model
    from genseq.music.domain import MUSIC

    loaded = load_model(checkpoint, MUSIC, "cpu")
    model, encoding = loaded.model.eval(), loaded.representation
    encoded = [encoding.encode(piece) for piece in real]
    encoded = [piece for piece in encoded if len(piece.inputs) > max(CONTEXTS)]
    rng = np.random.default_rng(seed)
    chosen = [(p, int(rng.integers(max(CONTEXTS), len(encoded[p].inputs)))) for p in rng.integers(0, len(encoded), positions)]
    targets = torch.as_tensor(np.stack([encoded[p].targets[t] for p, t in chosen]))
    losses = {}
    with torch.no_grad():
        for k in CONTEXTS:
            inputs = torch.as_tensor(np.stack([encoded[p].inputs[t + 1 - k:t + 1] for p, t in chosen]), dtype=torch.float32)
            outputs, _ = model(inputs)
            losses[str(k)] = round(float(model.step_losses(encoding.head, outputs[:, -1:], targets[:, None]).mean()), 4)
        whole = {}
        for p in {p for p, _ in chosen}:  # each piece once, from its start
            piece = encoded[p]
            outputs, _ = model(torch.as_tensor(piece.inputs[None], dtype=torch.float32))
            whole[p] = model.step_losses(encoding.head, outputs, torch.as_tensor(piece.targets[None]))[0]
        losses["all"] = round(float(np.mean([float(whole[p][t]) for p, t in chosen])), 4)
    return {"positions": positions, "nll_by_context_steps": losses,
            "gain_beyond_8_steps": round(losses["8"] - losses["all"], 4),
            "gain_beyond_16_steps": round(losses["16"] - losses["all"], 4)}


def time_to(curve: list, loss: float) -> float | None:
    return next((seconds for seconds, value in curve if value <= loss), None)


def best_within(curve: list, seconds: float) -> float | None:
    values = [value for elapsed, value in curve if elapsed <= seconds]
    return min(values) if values else None


def plan_runs(args) -> list[tuple]:
    """(corpus, cell, width, sizing): every corpus's same-width runs first, then the same-parameter ones."""
    plan = []
    for sizing in args.sizings:
        for corpus_name in args.corpora:
            corpus = CORPORA[corpus_name]
            if sizing == "same_width":
                plan += [(corpus_name, cell, corpus["width"], sizing) for cell in args.cells]
            else:
                lstm_params = parameter_count(ModelConfig(hidden_size=corpus["width"], num_layers=2), corpus["input_size"],
                                              corpus["output_size"])
                plan += [(corpus_name, cell, matched_width(cell, lstm_params, corpus), sizing) for cell in args.cells if cell != "lstm"]
    return plan


def deadline_of(text: str | None) -> float | None:
    """--deadline HH:MM (UTC, today) as a time.time()."""
    if not text:
        return None
    now = time.gmtime()
    hours, minutes = map(int, text.split(":"))
    return time.time() + (hours * 60 + minutes - now.tm_hour * 60 - now.tm_min) * 60 - now.tm_sec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=6.0, help="training budget of each run (wall clock)")
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA))
    parser.add_argument("--cells", nargs="+", default=list(CELLS))
    parser.add_argument("--sizings", nargs="+", default=["same_width", "same_params"])
    parser.add_argument("--pieces", type=int, default=30, help="unprimed samples and primed continuations per model")
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--deadline", help="HH:MM UTC: skip a run that would end after it")
    parser.add_argument("--overhead-minutes", type=float, default=1.5, help="a run's time beyond its budget, for --deadline")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "cells")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "cells.json")
    parser.add_argument("--table", action="store_true", help="print the README table of --out's result and stop")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return
    from genseq.music.domain import MUSIC

    os.environ["GENSEQ_THREADS"] = "1"
    torch.set_num_threads(1)
    limit_blas_threads(1)
    domain, results, real, deadline = SplitReadOnce(MUSIC), {}, {}, deadline_of(args.deadline)
    record = {"benchmark": "cells", "minutes_per_run": args.minutes, "threads": 1, "started_utc": time.strftime("%H:%M", time.gmtime()),
              "load_average_at_start": os.getloadavg(), "corpora": results, "skipped": []}
    for corpus_name, cell, width, sizing in plan_runs(args):
        name = f"{corpus_name}-{cell}-{sizing}"
        if deadline and time.time() + 60 * (args.minutes + args.overhead_minutes) > deadline:
            record["skipped"].append(f"{name}: would end after {args.deadline} UTC")
            print("skipped", name, flush=True)
            continue
        corpus = CORPORA[corpus_name]
        row = {"sizing": sizing, **train_run(name, corpus, cell, width, args.minutes, args.runs, domain)}
        if corpus_name not in real:
            real[corpus_name] = held_out_pieces(corpus)
        checkpoint = args.runs / name / "best.pt"
        row["samples"] = sample_statistics(checkpoint, real[corpus_name], args.bars, args.pieces, args.runs / name / "samples")
        row["context"] = context_nll(checkpoint, real[corpus_name])
        results.setdefault(corpus_name, {"runs": {}})["runs"][name] = row
        print(name, json.dumps({k: v for k, v in row.items() if not k.startswith("curve") and k != "samples"}),
              json.dumps(row["samples"]["worst_sd"]), flush=True)
        summarise(results[corpus_name])
        write(args, record)
    write(args, record)


def summarise(corpus: dict) -> None:
    """The loss every run of the corpus reached (the worst best) and each run's time to it; the best
    NLL of each run within the CPU time every run had (the least of their totals)."""
    rows = corpus["runs"].values()
    common = max(row["best_valid_nll"] for row in rows)
    common_cpu = min(row["curve_cpu_seconds_nll"][-1][0] for row in rows)
    corpus.update({"common_nll": common, "common_cpu_seconds": common_cpu})
    for row in rows:
        row["seconds_to_common_nll"] = time_to(row["curve_seconds_nll"], common)
        row["cpu_seconds_to_common_nll"] = time_to(row["curve_cpu_seconds_nll"], common)
        row["best_nll_within_common_cpu_seconds"] = best_within(row["curve_cpu_seconds_nll"], common_cpu)


def table(record: dict) -> str:
    """The README's table from a result: one row a run."""
    lines = ["| corpus | cell | sizing | width | params | epochs | CPU s an epoch | best NLL | best NLL in common CPU s | "
             "train frames/s (wall) | step p50 us | CPU s to common NLL | samples worst sd unprimed / primed (real 2 halves) | "
             "NLL from 8 inputs - all |", "|" + "---|" * 14]
    for corpus, result in record["corpora"].items():
        for row in result["runs"].values():
            worst = row["samples"]["worst_sd"]
            show = lambda value: "inf" if value is None else f"{value:.2f}"  # noqa: E731
            lines.append(f"| {corpus} | {row['cell']} | {row['sizing'].replace('_', ' ')} | {row['hidden_size']} | {row['params']:,} | "
                         f"{row['epochs']} | {row['cpu_seconds'] / row['epochs']:.1f} | {row['best_valid_nll']:.3f} | {show(row['best_nll_within_common_cpu_seconds'])} "
                         f"({result['common_cpu_seconds']:.0f} s) | {row['train_frames_per_second']:,} | {row['step_p50_us']:.0f} | "
                         f"{show(row['cpu_seconds_to_common_nll'])} | {show(worst['unprimed'])} / {show(worst['primed'])} "
                         f"({show(worst['real_vs_real'])}) | {row['context']['gain_beyond_8_steps']:.3f} |")
    return "\n".join(lines)


def write(args, record: dict) -> None:
    record.update({"load_average_at_end": os.getloadavg(), "ended_utc": time.strftime("%H:%M", time.gmtime()),
                   "machine": f"{os.cpu_count()} cores shared with other engineers' trainings (see load averages)",
                   "note": "held-out NLL: the validation split, nats per frame (Nottingham: sum of 88 keys' BCE; melody: "
                           "per 16th step); samples: bench/music_samples' statistics, worst |d mean| in sd of the held-out "
                           "pieces (test split); context: NLL of test steps from only their last k inputs",
                   "command": shlex.join(["python", "bench/cells.py", *sys.argv[1:]])})
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
