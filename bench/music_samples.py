"""Do samples sound like the music a model learned from? Per statistic (genseq eval samples:
notes per bar, silence, pitch-class entropy, scale consistency, intervals, leaps, range, rhythm
entropy, groove, polyphony) the distance |Δmean| / sd_real of generated pieces from the held-out
pieces of the model's own corpus, with real-vs-real (two halves of the held-out set) as the
ceiling, the model's held-out NLL per event beside it and its generation speed.

Modes: unprimed (``--pieces`` samples of ``--bars`` bars against each held-out piece's first
bars) and primed (each of ``--pieces`` held-out pieces' first 4 bars continued for ``--bars`` - 4
bars, against the held-out pieces' bars 5 to ``--bars``). Sampling: the CLI's defaults unless given.

    python bench/music_samples.py [--models melody pianoroll melody-nottingham] [--temperature T] [--top-p P]

A model is NAME=CHECKPOINT@DATA (CHECKPOINT may be git:REV:PATH, a checkpoint as committed at REV;
DATA a folder with test/, or a .npz whose seeded split's test part is the held-out set).
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
from genseq.core.notes import NoteSequence, save_sequences, steps_per_bar  # noqa: E402
from genseq.music.midi import write_midi  # noqa: E402
from genseq.music.sample_eval import compare_pieces  # noqa: E402
from genseq.music.statistics import first_bars, melody_line  # noqa: E402

SHARED = REPO.parent / "shared" / "datasets"
TUNES = REPO / "runs" / "samples" / "tunes-4spq.npz"  # genseq extract music --corpus oneills,bach-chorales --voices soprano
MODELS = {
    "melody": f"assets/music-melody.pt@{TUNES}",
    "pianoroll": f"assets/music-pianoroll.pt@{SHARED / 'nottingham'}",
    # the melody model bundled before issue 12 (Nottingham, quarter-note frames), the baseline, with
    # the CLI's sampling defaults of its time (#temperature:top_p:top_k)
    "melody-nottingham": f"git:8f19dc1:assets/music-melody.pt@{SHARED / 'nottingham'}#1.0::",
}
PRIMER_BARS = 4


def resolve_checkpoint(spec: str, scratch: Path) -> Path:
    if not spec.startswith("git:"):
        return REPO / spec if not Path(spec).is_absolute() else Path(spec)
    _, rev, path = spec.split(":", 2)
    out = scratch / f"{rev}-{Path(path).name}"
    out.write_bytes(subprocess.run(["git", "show", f"{rev}:{path}"], cwd=REPO, stdout=subprocess.PIPE, check=True).stdout)
    return out


def held_out(data: Path, steps_per_quarter: int, melody: bool) -> list[NoteSequence]:
    """The test pieces a model never trained on: test/ of a split folder, or the seeded split's test part;
    for a melody model their top voice, the line it learned (not the chords under it)."""
    from genseq.music.stages import load_music_data, load_sequences_from

    if (data / "test").is_dir():
        pieces = load_sequences_from(data / "test", steps_per_quarter)[0]
    else:
        pieces = load_music_data(data, steps_per_quarter).test
    return [melody_line(p) for p in pieces] if melody else pieces


def generate(checkpoint: Path, out: Path, sampling: dict, bars: int, num_outputs: int, primer: Path | None = None) -> list[NoteSequence]:
    """genseq generate music with these settings (the library call the CLI makes)."""
    try:
        from genseq.core.options import GenerateMusicOptions
        from genseq.music.generate import generate_music
    except ImportError:  # before the options refactor
        from genseq.model.sample import SamplingOptions
        from genseq.music.stages import GenerateOptions, generate_music as old_generate

        options = GenerateOptions(primer=primer, bars=bars, num_outputs=num_outputs, sampling=SamplingOptions(**sampling))
        return old_generate(checkpoint, out, options)
    options = GenerateMusicOptions(checkpoint=str(checkpoint), out=str(out), primer=None if primer is None else str(primer),
                                   bars=bars, num_outputs=num_outputs, wav=False, png=False, **sampling)
    return generate_music(options)


def default_sampling() -> dict:
    try:
        from genseq.core.options import GenerateMusicOptions

        defaults = GenerateMusicOptions()
        return {"temperature": defaults.temperature, "top_k": defaults.top_k, "top_p": defaults.top_p}
    except ImportError:
        return {"temperature": 1.0, "top_k": None, "top_p": None}


def bar_window(piece: NoteSequence, start_bar: int, stop_bar: int) -> NoteSequence | None:
    """Bars [start_bar, stop_bar) of a piece, None when it has no note there."""
    head = first_bars(piece, start_bar).total_steps if start_bar else 0
    whole = first_bars(piece, stop_bar)
    if whole.total_steps <= head:
        return None
    part = whole.sliced(head, whole.total_steps)
    return part if len(part) else None


def same_metre(pieces: list[NoteSequence], like: NoteSequence) -> list[NoteSequence]:
    """The pieces whose bars (all of them) are as long as `like`'s first bar."""
    length = steps_per_bar(like.steps_per_quarter, *like.time_signatures[0][1:])
    return [p for p in pieces if all(steps_per_bar(p.steps_per_quarter, n, d) == length for _, n, d in p.time_signatures)]


def distances(result: dict) -> dict:
    return {
        "worst_distance_sd": result["worst_distance_sd"], "worst_statistic": result["worst_statistic"],
        "mean_overlap": result["mean_overlap"], "real_pieces": result["real_pieces"], "generated_pieces": result["generated_pieces"],
        "statistics": {name: {key: None if value is None else round(value, 4) for key, value in row.items()}
                       for name, row in result["statistics"].items()},
    }


def nll_per_event(checkpoint: Path, pieces: list[NoteSequence], scratch: Path) -> dict:
    from genseq.music.stages import evaluate_music

    path = save_sequences(pieces, scratch / "held-out.npz")
    metrics = evaluate_music(checkpoint, path)
    return {key: metrics.get(key) for key in ("nll_per_frame", "nll_per_event", "frames", "events", "event_accuracy")}


def timed_generation(checkpoint: Path, sampling: dict, scratch: Path, bars: int) -> float:
    from genseq.core.errors import GenseqError

    for seed in range(1, 20):  # a seed whose piece is all silence writes nothing (generate refuses it): the next
        started = time.perf_counter()
        try:
            generate(checkpoint, scratch / "speed", {**sampling, "seed": seed}, bars, 1)
        except GenseqError:
            continue
        return time.perf_counter() - started
    raise SystemExit("every timed generation was silent")


def ms_per_step(checkpoint: Path, sampling: dict, scratch: Path, steps_per_quarter: int, bars: int = 64) -> dict:
    """One unprimed 4/4 generation end to end (model load, sampling, MIDI): per step of a `bars`-bar
    piece, and per step beyond a 4-bar piece's time (the fixed cost of loading left out); best of 3."""
    short_bars = 4
    timed_generation(checkpoint, sampling, scratch, short_bars)  # warm: imports, caches
    short = min(timed_generation(checkpoint, sampling, scratch, short_bars) for _ in range(3))
    long = min(timed_generation(checkpoint, sampling, scratch, bars + short_bars) for _ in range(3))
    steps = bars * 4 * steps_per_quarter
    return {"end_to_end": round(1000 * long / (steps + short_bars * 4 * steps_per_quarter), 3),
            "per_extra_step": round(1000 * (long - short) / steps, 3)}


def primed_samples(checkpoint: Path, tunes: list[NoteSequence], sampling: dict, bars: int, scratch: Path) -> list[NoteSequence]:
    out = []
    for index, tune in enumerate(tunes):
        primer = first_bars(tune, PRIMER_BARS)
        primer_path = write_midi(primer, scratch / "primers" / f"{index:03d}.mid")
        out += generate(checkpoint, scratch / "primed", {**sampling, "seed": index}, bars - PRIMER_BARS, 1, primer_path)
    return out


def bench_model(name: str, spec: str, args, sampling: dict, scratch: Path, quick: bool = False) -> dict:
    spec, _, own_sampling = spec.partition("#")
    sampling = parse_setting(own_sampling) if own_sampling else sampling
    checkpoint_spec, data = spec.rsplit("@", 1)
    checkpoint = resolve_checkpoint(checkpoint_spec, scratch)
    representation = torch.load(checkpoint, weights_only=True)["representation"]
    spq = int(representation["steps_per_quarter"])
    real = held_out(Path(data), spq, representation["name"] == "melody")
    print(f"{name}: {checkpoint_spec} against {len(real)} held-out pieces of {data}", flush=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(real))
    half_a, half_b = [real[i] for i in order[: len(real) // 2]], [real[i] for i in order[len(real) // 2:]]
    unprimed = generate(checkpoint, scratch / name / "unprimed", {**sampling, "seed": 0}, args.bars, args.pieces)
    primers = [real[i] for i in order[: args.pieces] if first_bars(real[i], PRIMER_BARS + 1).total_steps
               > first_bars(real[i], PRIMER_BARS).total_steps]
    primed = primed_samples(checkpoint, primers, sampling, args.bars, scratch / name)
    continuations = [p for p in (bar_window(r, PRIMER_BARS, args.bars) for r in real) if p is not None]
    modes = {
        "real_vs_real": distances(compare_pieces(half_a, half_b, args.bars, unit=real)),
        "unprimed": distances(compare_pieces(real, unprimed, args.bars)),
        "primed": distances(compare_pieces(continuations, primed, args.bars - PRIMER_BARS)),
    }
    same = same_metre(real, unprimed[0])
    if 1 < len(same) < len(real):  # unprimed samples are in 4/4: beside the held-out pieces with their bar length
        modes["unprimed_same_metre"] = distances(compare_pieces(same, unprimed, args.bars))
    for mode, row in modes.items():
        worst = "inf" if row["worst_distance_sd"] is None else f"{row['worst_distance_sd']:.2f}"
        print(f"  {mode:19} worst {worst} sd ({row['worst_statistic']}), mean overlap {row['mean_overlap']:.2f}", flush=True)
    if quick:
        return {"sampling": sampling, "modes": modes}
    return {"checkpoint": checkpoint_spec, "sampling": sampling, "held_out": data, "held_out_pieces": len(real), "steps_per_quarter": spq,
            "held_out_nll": nll_per_event(checkpoint, real, scratch),
            "ms_per_step": ms_per_step(checkpoint, sampling, scratch, spq), "modes": modes}


def print_table(results: dict) -> None:
    names = list(results)
    stats = list(next(iter(results.values()))["modes"]["unprimed"]["statistics"])
    header = "".join(f" {n[:16] + ' ' + m[:8]:>26}" for n in names for m in ("unprimed", "primed", "real_vs_real"))
    print(f"\ndistance |Δmean|/sd_real\n{'statistic':20}{header}")
    for stat in stats:
        cells = []
        for n in names:
            for m in ("unprimed", "primed", "real_vs_real"):
                d = results[n]["modes"][m]["statistics"][stat]["distance_sd"]
                cells.append(f" {'inf' if d is None else f'{d:.2f}':>26}")
        print(f"{stat:20}{''.join(cells)}")


def parse_setting(text: str) -> dict:
    temperature, top_p, top_k = (text.split(":") + ["", ""])[:3]
    return {"temperature": float(temperature), "top_p": float(top_p) if top_p else None, "top_k": int(top_k) if top_k else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["melody", "pianoroll", "melody-nottingham"],
                        help="names of MODELS, or NAME=CHECKPOINT@DATA")
    parser.add_argument("--pieces", type=int, default=40, help="unprimed samples, and primed continuations")
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--temperature", type=float)
    parser.add_argument("--top-k", type=int)
    parser.add_argument("--top-p", type=float)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sweep", nargs="*", default=[], metavar="T:TOP_P:TOP_K",
                        help="also try these sampling settings on the first model (empty fields: none), e.g. 0.9:0.95:")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "music_samples.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sampling = default_sampling()
    given = {"temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p}
    sampling.update({key: value for key, value in given.items() if value is not None})
    specs = dict(item.split("=", 1) if "=" in item else (item, MODELS[item]) for item in args.models)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, spec in specs.items():
            results[name] = bench_model(name, spec, args, sampling, Path(scratch))
        first = next(iter(specs))
        sweep = [bench_model(f"{first} {setting}", specs[first], args, parse_setting(setting), Path(scratch), quick=True)
                 for setting in args.sweep]
    print_table(results)
    record = {
        "benchmark": "music_samples", "sampling": sampling, "sampling_is_cli_default": not any(v is not None for v in given.values()),
        "pieces": args.pieces, "bars": args.bars, "primer_bars": PRIMER_BARS, "target": "every statistic within 0.5 sd, unprimed and primed",
        "models": results, "threads": args.threads, "machine": f"{os.cpu_count()} cores shared",
        "command": shlex.join(["python", "bench/music_samples.py", *sys.argv[1:]]),
    }
    if sweep:
        record["sweep"] = [{"sampling": row["sampling"], **{mode: {"worst_distance_sd": m["worst_distance_sd"], "worst_statistic": m["worst_statistic"]}
                            for mode, m in row["modes"].items()}} for row in sweep]
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
