"""The sampled step at batch 1 on one thread, end to end (cell, head, draw, next input), against a bare
loop of nn.LSTM + nn.Linear + torch.multinomial of the same sizes measured in the same run, and the
batch throughput (steps a second over all streams) at batch 1, 16 and 64.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/step_speed.py [--steps 3000]

Paths timed per model (the bundled melody and NADE piano-roll models, and the melody model bundled before
the real-tunes one, to find why the new one stepped slower):
- bare: nn.LSTM layers of the model's sizes, nn.Linear, softmax + multinomial (piano roll: sigmoid + rand),
  the next input one-hot + torch.cat, as a hand-written baseline would be;
- torch: the pre-Sampler path (the model's forward and sample_step each step, the next input built with
  one_hot + torch.cat as genseq.music.generate builds it);
- sampler: genseq.model.sampler.Sampler with that same torch next input (what generate gets today);
- sampler_active: the Sampler fed ActiveInputs (the event and metric columns; no dense input built);
- low_precision (throughput only): the Sampler with low_precision=True (bfloat16 products, numpy's
  exponentials; other draws, so low_precision_statistics compares its pieces' statistics with float32's);
- with --two-threads, throughput_2_threads: Sampler(threads=2), the batch's rows split between 2 threads.
Each step is timed alone (perf_counter_ns): p50 and p99 in microseconds, ratios to bare; the paths take
turns in blocks (--rounds), so that a change of the machine's load falls on all of them alike.
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

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genseq.core.atomic import atomic_write_text  # noqa: E402
from genseq.core.config import ModelConfig  # noqa: E402
from genseq.core.options import SamplingOptions  # noqa: E402
from genseq.model.recurrent import StackedRecurrent  # noqa: E402
from genseq.model.sampler import ActiveInputs, Sampler  # noqa: E402
from genseq.music.encode import make_encoding  # noqa: E402

MODELS = {"melody": "assets/music-melody.pt", "pianoroll": "assets/music-pianoroll.pt",
          "melody-before": "git:8f19dc1:assets/music-melody.pt"}
DRAW_CHECK_STEPS = 2000


def load(spec: str, scratch: Path):
    if spec.startswith("git:"):
        _, rev, path = spec.split(":", 2)
        target = scratch / f"{rev}.pt"
        target.write_bytes(subprocess.run(["git", "show", f"{rev}:{path}"], cwd=REPO, stdout=subprocess.PIPE, check=True).stdout)
        spec = str(target)
    payload = torch.load(REPO / spec, map_location="cpu", weights_only=False)
    model = StackedRecurrent(ModelConfig.model_validate(payload["config"]["model"]), payload["input_size"],
                             payload["output_size"], payload.get("head"))
    model.load_state_dict(payload["state_dict"])
    return model.eval(), payload["head"], make_encoding(payload["representation"])


class Inputs:
    """The step inputs as genseq.music.generate builds them: the value's vector beside the metric row."""

    def __init__(self, encoding, steps: int):
        self.encoding = encoding
        self.metric = torch.from_numpy(encoding.metric.for_steps([(0, 4, 4)], np.arange(0, steps + 2)))
        self.columns = [np.flatnonzero(row) + encoding.input_size - encoding.metric.size for row in self.metric.numpy()]

    def dense(self, values: torch.Tensor, index: int) -> torch.Tensor:
        row = self.metric[index + 1].expand(values.shape[0], -1)
        return torch.cat([self.encoding.value_vectors_torch(values), row], dim=-1)

    def active(self, values: torch.Tensor, index: int) -> ActiveInputs:
        """The same input as its ones: the event's column, then the metric row's (ActiveInputs)."""
        metric = self.columns[index + 1]
        columns = np.empty((values.shape[0], 1 + len(metric)), dtype=np.int64)
        columns[:, 0] = values.numpy()
        columns[:, 1:] = metric
        return ActiveInputs(columns)

    def primer(self) -> np.ndarray:
        first = self.encoding.value_vectors(self.encoding.silence())
        return np.concatenate([first, self.metric[:1].numpy()], axis=1).astype(np.float32)


def timed_loop(first, step, steps: int) -> np.ndarray:
    """Per-step times (ns) of `step(carry, index) -> carry`, after 200 untimed steps."""
    carry = first()
    for index in range(200):
        carry = step(carry, index)
    times = np.empty(steps, dtype=np.int64)
    clock = time.perf_counter_ns
    for index in range(steps):
        started = clock()
        carry = step(carry, index)
        times[index] = clock() - started
    return times


def bare_loop(model, head, inputs: Inputs, batch: int):
    """nn.LSTM layers of the model's sizes (input to all layers, the head reading every layer and the input),
    nn.Linear, and the draw: what a careful torch loop without genseq's code costs."""
    torch.manual_seed(0)
    layers = [torch.nn.LSTM(layer.input_size, layer.hidden_size, batch_first=True) for layer in model.layers]
    linear = torch.nn.Linear(model.head.in_features, model.head.out_features)
    generator = torch.Generator().manual_seed(0)
    units = model.joint.units if model.joint is not None else model.head.out_features

    @torch.no_grad()
    def step(carry, index):
        values, states = carry
        x = inputs.dense(values, index).unsqueeze(1)
        below, outs, new = x, [], []
        for number, (layer, state) in enumerate(zip(layers, states)):
            below, state = layer(below if number == 0 else torch.cat([below, x], -1), state)
            outs.append(below)
            new.append(state)
        logits = linear(torch.cat(outs + [x], -1))[:, 0]
        if head == "categorical":
            values = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator).squeeze(-1)
        else:
            values = (torch.rand(batch, units, generator=generator) < torch.sigmoid(logits[:, :units])).float()
        return values, new

    start = torch.zeros(batch, dtype=torch.long) if head == "categorical" else torch.zeros(batch, units)
    return (lambda: (start, [None] * len(layers))), step


def torch_loop(model, head, inputs: Inputs, batch: int, sampling: SamplingOptions):
    """The pre-Sampler path: forward and sample_step each step (genseq.model.sample before this issue)."""
    generator = torch.Generator().manual_seed(sampling.seed)

    def first():
        outputs, state = model(torch.from_numpy(inputs.primer()).unsqueeze(0).expand(batch, -1, -1).contiguous())
        return outputs[:, -1], state

    @torch.no_grad()
    def step(carry, index):
        logits, state = carry
        values = model.sample_step(head, logits, sampling.temperature, sampling.top_k, sampling.top_p, generator)
        outputs, state = model(inputs.dense(values, index).unsqueeze(1), state)
        return outputs[:, -1], state

    return first, step


def sampler_loop(model, head, inputs: Inputs, batch: int, sampling: SamplingOptions, active: bool,
                 low_precision: bool = False, threads: int = 1):
    sampler = Sampler(model, head, sampling, low_precision=low_precision, threads=threads)
    next_input = inputs.active if active else inputs.dense

    def first():
        sampler.reset()
        sampler.feed(torch.from_numpy(inputs.primer()).unsqueeze(0).expand(batch, -1, -1).contiguous())
        return None

    def step(carry, index):
        sampler.feed(next_input(sampler.draw(), index))
        return None

    return first, step


def forward_only(model, inputs: Inputs):
    """The model's forward at batch 1 alone (no draw, no input building)."""
    x = inputs.dense(torch.zeros(1, dtype=torch.long) if model.joint is None and inputs.encoding.head == "categorical"
                     else torch.zeros(1, model.joint.units if model.joint is not None else inputs.encoding.value_size), 0)
    x = x.unsqueeze(1)

    @torch.no_grad()
    def step(state, index):
        return model(x, state)[1]

    return (lambda: None), step


def summary(times: np.ndarray, batch: int = 1) -> dict:
    return {"p50_us": round(float(np.percentile(times, 50)) / 1e3, 1), "p99_us": round(float(np.percentile(times, 99)) / 1e3, 1),
            "steps_per_second": round(batch * 1e9 / float(np.mean(times)))}


class Timed:
    """One path's loop, run in blocks so that paths can take turns (the machine's load drifts: paths timed
    in alternating blocks see the same load); times of every block kept."""

    def __init__(self, first, step, warm: int = 200):
        self.carry, self.step, self.index, self.times = first(), step, 0, []
        self.run(warm, keep=False)

    def run(self, count: int, keep: bool = True) -> None:
        clock, times = time.perf_counter_ns, np.empty(count, dtype=np.int64)
        for k in range(count):
            started = clock()
            self.carry = self.step(self.carry, self.index)
            times[k] = clock() - started
            self.index += 1
        if keep:
            self.times.append(times)

    def all_times(self) -> np.ndarray:
        return np.concatenate(self.times)


def take_turns(loops: dict, steps: int, rounds: int) -> dict:
    for _ in range(rounds):
        for loop in loops.values():
            loop.run(max(1, steps // rounds))
    return {name: loop.all_times() for name, loop in loops.items()}


def bench_model(name: str, spec: str, scratch: Path, steps: int, batches: list[int], rounds: int, two_threads: bool = False) -> dict:
    model, head, encoding = load(spec, scratch)
    inputs = Inputs(encoding, max(steps, DRAW_CHECK_STEPS) * 2 + 1000)
    sampling = SamplingOptions(top_p=0.95) if head == "categorical" else SamplingOptions()
    paths = {"bare": lambda b: bare_loop(model, head, inputs, b),
             "torch": lambda b: torch_loop(model, head, inputs, b, sampling),
             "sampler": lambda b: sampler_loop(model, head, inputs, b, sampling, active=False)}
    if head == "categorical":
        off = SamplingOptions()
        paths["sampler_active"] = lambda b: sampler_loop(model, head, inputs, b, sampling, active=True)
        paths["torch_top_p_off"] = lambda b: torch_loop(model, head, inputs, b, off)
        paths["sampler_active_top_p_off"] = lambda b: sampler_loop(model, head, inputs, b, off, active=True)
    result = {"checkpoint": spec, "head": model.joint and "nade" or head, "config": model.config.model_dump(),
              "input_size": model.layers[0].input_size, "sampling": sampling.model_dump()}
    loops = {path: Timed(*make(1)) for path, make in paths.items()}
    loops["forward_only"] = Timed(*forward_only(model, inputs))
    result["batch_1"] = {path: summary(times) for path, times in take_turns(loops, steps, rounds).items()}
    bare = result["batch_1"]["bare"]["p50_us"]
    for path in result["batch_1"].values():
        path["p50_vs_bare"] = round(path["p50_us"] / bare, 3)
    best = "sampler_active" if head == "categorical" else "sampler"
    paths["low_precision"] = lambda b: sampler_loop(model, head, inputs, b, sampling, head == "categorical", low_precision=True)
    result["throughput"] = {}
    for batch in batches:
        loops = {path: Timed(*paths[path](batch), warm=20) for path in ("bare", "torch", best, "low_precision")}
        timed = take_turns(loops, max(rounds, steps // batch), rounds)
        result["throughput"][str(batch)] = {path: summary(times, batch)["steps_per_second"] for path, times in timed.items()}
    if two_threads:  # the batch's rows split between 2 threads (Sampler(threads=2)), BLAS and torch 1 thread each
        active = head == "categorical"
        two = {"float32": lambda b: sampler_loop(model, head, inputs, b, sampling, active, threads=2),
               "low_precision": lambda b: sampler_loop(model, head, inputs, b, sampling, active, low_precision=True, threads=2)}
        result["throughput_2_threads"] = {str(batch): {path: summary(times, batch)["steps_per_second"] for path, times in take_turns(
            {path: Timed(*make(batch), warm=20) for path, make in two.items()}, max(rounds, steps // batch), rounds).items()}
            for batch in batches if batch > 1}
    result["same_draws_as_torch_path"] = same_draws(model, head, inputs, sampling, DRAW_CHECK_STEPS)
    if head == "categorical":
        result["low_precision_statistics"] = low_precision_statistics(model, head, encoding, inputs, sampling)
    return result


def sampled_pieces(model, head, encoding, inputs: Inputs, sampling: SamplingOptions, pieces: int, bars: int,
                   low_precision: bool) -> list:
    from genseq.model.sampler import sample_continuations

    sampler = Sampler(model, head, sampling, low_precision=low_precision)
    values = sample_continuations(sampler, inputs.primer(), inputs.active, bars * 16, pieces).numpy()
    return [encoding.to_sequence(row, 120.0, [(0, 4, 4)]) for row in values]


def low_precision_statistics(model, head, encoding, inputs: Inputs, sampling: SamplingOptions, pieces: int = 256,
                             bars: int = 16) -> dict:
    """The bfloat16 path's samples against the float32 path's, in genseq eval samples' statistics (worst
    |d mean| in sd): float32 seed 0 against float32 seed 1 is the noise floor of `pieces` pieces."""
    from genseq.music.sample_eval import compare_pieces

    exact = [sampled_pieces(model, head, encoding, inputs, replace_seed(sampling, seed), pieces, bars, False) for seed in (0, 1)]
    low = [sampled_pieces(model, head, encoding, inputs, replace_seed(sampling, seed), pieces, bars, True) for seed in (0, 1)]
    rows = {"float32_seed0_vs_float32_seed1": compare_pieces(exact[0], exact[1], bars),
            "float32_seed0_vs_bfloat16_seed0": compare_pieces(exact[0], low[0], bars),
            "float32_seed1_vs_bfloat16_seed1": compare_pieces(exact[1], low[1], bars)}
    worst = lambda row: None if row["worst_distance_sd"] is None else round(row["worst_distance_sd"], 3)  # noqa: E731  None: infinitely far
    return {"pieces": pieces, "bars": bars, **{name: {"worst_distance_sd": worst(row),
                                                      "worst_statistic": row["worst_statistic"]} for name, row in rows.items()}}


def replace_seed(sampling: SamplingOptions, seed: int) -> SamplingOptions:
    return sampling.model_copy(update={"seed": seed})


def same_draws(model, head, inputs: Inputs, sampling: SamplingOptions, steps: int) -> dict:
    """The Sampler's draws against the pre-Sampler path's, same seed, 2000 steps of one stream."""
    reference_first, _ = torch_loop(model, head, inputs, 1, sampling)
    drawn = []
    generator = torch.Generator().manual_seed(sampling.seed)
    carry = reference_first()
    with torch.no_grad():
        for index in range(steps):
            value = model.sample_step(head, carry[0], sampling.temperature, sampling.top_k, sampling.top_p, generator)
            drawn.append(value)
            outputs, state = model(inputs.dense(value, index).unsqueeze(1), carry[1])
            carry = (outputs[:, -1], state)
    sampler = Sampler(model, head, sampling)
    sampler.feed(torch.from_numpy(inputs.primer()).unsqueeze(0))
    ours = []
    for index in range(steps):
        ours.append(sampler.draw())
        sampler.feed(inputs.dense(ours[-1], index))
    differing = sum(not torch.equal(a, b) for a, b in zip(drawn, ours))
    first_difference = next((i for i, (a, b) in enumerate(zip(drawn, ours)) if not torch.equal(a, b)), None)
    return {"steps": steps, "steps_differing": differing, "first_difference": first_difference}


def compiled_forward(model, inputs: Inputs, steps: int, with_compile: bool) -> dict:
    """The model's forward at batch 1: eager, TorchScript (traced, frozen) and torch.compile, same run (p50 us)."""
    x = forward_only(model, inputs)
    with torch.no_grad():
        sample_x = torch.zeros(1, 1, model.layers[0].input_size)
        _, state = model(sample_x)
    flat_state = [part for layer in state for part in (layer if isinstance(layer, tuple) else (layer,))]
    pairs = isinstance(state[0], tuple)

    class Flat(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x, *parts):
            layered = [tuple(parts[i:i + 2]) for i in range(0, len(parts), 2)] if pairs else list(parts)
            out, new = self.model(x, layered)
            return (out, *[p for layer in new for p in (layer if isinstance(layer, tuple) else (layer,))])

    flat = Flat().eval()
    loops = {"eager": Timed(*x)}
    result = {}
    with torch.no_grad():
        traced = torch.jit.freeze(torch.jit.trace(flat, (sample_x, *flat_state), check_trace=False).eval())
        loops["torchscript_traced_frozen"] = Timed(lambda: None, lambda c, i: traced(sample_x, *flat_state))
        if with_compile:
            started = time.perf_counter()
            compiled = torch.compile(flat, dynamic=False)
            compiled(sample_x, *flat_state)
            result["torch_compile_seconds"] = round(time.perf_counter() - started, 1)
            loops["torch_compile"] = Timed(lambda: None, lambda c, i: compiled(sample_x, *flat_state))
        result.update({name: summary(times)["p50_us"] for name, times in take_turns(loops, steps, 10).items()})
    return result


def denormals(model, inputs: Inputs, steps: int) -> dict:
    """Flush-to-zero on and off for the model's forward, and how many denormal floats its states hold."""
    times = {"no_flush": [], "flush": []}
    for _ in range(3):
        for flush in (False, True):
            torch.set_flush_denormal(flush)
            times["flush" if flush else "no_flush"].append(summary(timed_loop(*forward_only(model, inputs), steps // 3))["p50_us"])
    torch.set_flush_denormal(False)
    return {name: min(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--rounds", type=int, default=10, help="blocks each path's steps are split into, paths taking turns")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile of the melody forward")
    parser.add_argument("--two-threads", action="store_true", help="also the batch throughput with the rows split between 2 threads")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "step_speed.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    limit_blas_threads(1)
    load_at_start, uptime_at_start = os.getloadavg(), uptime()
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.models:
            results[name] = bench_model(name, MODELS.get(name, name), Path(scratch), args.steps, args.batches, args.rounds,
                                        args.two_threads)
            model, _, encoding = load(MODELS.get(name, name), Path(scratch))
            results[name]["forward_p50_us_denormals"] = denormals(model, Inputs(encoding, args.steps + 400), args.steps)
            if name == "melody":
                results[name]["forward_p50_us_compiled"] = compiled_forward(model, Inputs(encoding, args.steps + 400),
                                                                            args.steps, args.compile)
            print(name, json.dumps(results[name]["batch_1"]), json.dumps(results[name]["throughput"]), flush=True)
    record = {"benchmark": "step_speed", "threads": 1, "machine": f"{os.cpu_count()} cores shared",
              "load_average_at_start": load_at_start, "uptime_at_start": uptime_at_start,
              "load_average_at_end": os.getloadavg(), "uptime_at_end": uptime(), "torch": torch.__version__, "models": results,
              "targets": {"melody_p50_us": 100, "melody_vs_bare": 1.0, "pianoroll_p50_us": 500, "batch64_melody_steps_per_second": 100000},
              "command": shlex.join(["python", "bench/step_speed.py", *sys.argv[1:]])}
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")


def uptime() -> str:
    return subprocess.run(["uptime"], stdout=subprocess.PIPE, text=True).stdout.strip()


def limit_blas_threads(threads: int) -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(threads)


if __name__ == "__main__":
    main()
