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

Piano-roll models are also run over ``--long-bars`` (64) bars, unprimed and primed, against the
held-out pieces that long: the whole piece, and its last 16 bars against the real pieces' same
bars (drift); and a listener's check of each piece (silent bars, the longest stretch with no new
note). ``--harmonize NAME=CHECKPOINT`` instead harmonizes the soprano of held-out Bach chorales
(the test part of the chorales' seeded split, seed 0) and compares the sampled lower voices with
the real alto, tenor and bass (``--out`` then names the harmonization result).

    python bench/music_samples.py --models pianoroll --pieces 20 --sweep 0.9:: 1.0::8 \
        --out bench/results/music_samples_pianoroll.json
    python bench/music_samples.py --harmonize pianoroll=assets/music-pianoroll.pt \
        --out bench/results/music_samples_harmonize.json
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
from collections import Counter
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genseq.core.atomic import atomic_write_text  # noqa: E402
from genseq.core.notes import NoteSequence, save_sequences, steps_per_bar  # noqa: E402
from genseq.music.midi import write_midi  # noqa: E402
from genseq.music.sample_eval import compare_pieces, distance_sd  # noqa: E402
from genseq.music.statistics import MAJOR_SCALE, first_bars, melody_line  # noqa: E402

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
LAST_BARS = 16  # the window of a long piece compared for drift


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
    from genseq.music.domain import load_music_split, read_pieces

    if (data / "test").is_dir():
        pieces = read_pieces(data / "test", steps_per_quarter)[0]
    else:
        pieces = load_music_split(data, steps_per_quarter).test
    return [melody_line(p) for p in pieces] if melody else pieces


def generate(checkpoint: Path, out: Path, sampling: dict, bars: int, num_outputs: int, primer: Path | None = None) -> list[NoteSequence]:
    """genseq generate music with these settings (the library call the CLI makes; sampling's "controls",
    when given, replace generate's default PieceControls)."""
    from genseq.core.options import GenerateMusicOptions
    from genseq.music.generate import generate_music, sample_music
    from genseq.music.long_form import PieceControls

    sampling = dict(sampling)
    controls = sampling.pop("controls", None)
    options = GenerateMusicOptions(checkpoint=str(checkpoint), out=str(out), primer=None if primer is None else str(primer),
                                   bars=bars, num_outputs=num_outputs, wav=False, png=False, **sampling)
    return generate_music(options) if controls is None else sample_music(options, controls=PieceControls(**controls))


def default_sampling() -> dict:
    from genseq.core.options import GenerateMusicOptions

    defaults = GenerateMusicOptions()
    return {"temperature": defaults.temperature, "top_k": defaults.top_k, "top_p": defaults.top_p}


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
    from genseq.music.evaluate import evaluate_music

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


def mode_rows(real: list[NoteSequence], unprimed: list[NoteSequence], primed: list[NoteSequence], bars: int) -> dict:
    """real-vs-real (two seeded halves of the held-out set, in the sd of the whole), unprimed samples
    against the held-out pieces' first `bars` bars, primed ones against their bars PRIMER_BARS to `bars`."""
    order = np.random.default_rng(0).permutation(len(real))
    half_a, half_b = [real[i] for i in order[: len(real) // 2]], [real[i] for i in order[len(real) // 2:]]
    continuations = [p for p in (bar_window(r, PRIMER_BARS, bars) for r in real) if p is not None]
    modes = {
        "real_vs_real": distances(compare_pieces(half_a, half_b, bars, unit=real)),
        "unprimed": distances(compare_pieces(real, unprimed, bars)),
        "primed": distances(compare_pieces(continuations, primed, bars - PRIMER_BARS)),
    }
    same = same_metre(real, unprimed[0])
    if 1 < len(same) < len(real):  # unprimed samples are in 4/4: beside the held-out pieces with their bar length
        modes["unprimed_same_metre"] = distances(compare_pieces(same, unprimed, bars))
    return modes


def last_bars_rows(real: list[NoteSequence], unprimed: list[NoteSequence], primed: list[NoteSequence], bars: int) -> dict:
    """Drift: the last LAST_BARS bars of long samples against the same bars of the real pieces."""
    window = lambda pieces, first: [p for p in (bar_window(q, first, bars) for q in pieces) if p is not None]  # noqa: E731
    real_last = window(real, bars - LAST_BARS)
    return {"unprimed_last_bars": distances(compare_pieces(real_last, window(unprimed, bars - LAST_BARS), LAST_BARS)),
            "primed_last_bars": distances(compare_pieces(real_last, window(primed, bars - LAST_BARS - PRIMER_BARS), LAST_BARS))}


def held_chords(piece: NoteSequence) -> dict:
    """What a listener notices: bars where nothing sounds, and the longest stretch (in bars) with no new note."""
    length = steps_per_bar(piece.steps_per_quarter, *piece.time_signatures[0][1:])
    bars = max(1, -(-piece.total_steps // length))
    sounding = np.zeros(bars * length, dtype=bool)
    for _, _, start, end, _ in piece.notes.tolist():
        sounding[start:end] = True
    boundaries = np.unique(np.r_[0, piece.notes[:, 2], piece.total_steps])
    return {"silent_bars": int((~sounding.reshape(bars, length).any(1)).sum()),
            "longest_without_onset_bars": float(np.diff(boundaries).max()) / length if len(boundaries) > 1 else 0.0}


def listening(pieces: list[NoteSequence]) -> dict:
    rows = [held_chords(p) for p in pieces]
    return {"pieces_with_a_silent_bar": sum(r["silent_bars"] > 0 for r in rows),
            "pieces_with_a_chord_held_over_2_bars": sum(r["longest_without_onset_bars"] > 2 for r in rows),
            "longest_without_onset_bars": max(r["longest_without_onset_bars"] for r in rows), "pieces": len(rows)}


def long_pieces(real: list[NoteSequence], bars: int) -> list[NoteSequence]:
    return [first_bars(p, bars) for p in real if bar_window(p, bars - 1, bars) is not None]


def sample_modes(checkpoint: Path, real: list[NoteSequence], sampling: dict, bars: int, pieces: int, scratch: Path) -> tuple:
    order = np.random.default_rng(0).permutation(len(real))
    unprimed = generate(checkpoint, scratch / "unprimed", {**sampling, "seed": 0}, bars, pieces)
    primers = [real[i] for i in order[:pieces] if first_bars(real[i], PRIMER_BARS + 1).total_steps
               > first_bars(real[i], PRIMER_BARS).total_steps]
    return unprimed, primed_samples(checkpoint, primers, sampling, bars, scratch)


def show_modes(modes: dict) -> None:
    for mode, row in modes.items():
        worst = "inf" if row["worst_distance_sd"] is None else f"{row['worst_distance_sd']:.2f}"
        over = {name: round(stat["distance_sd"], 2) for name, stat in row["statistics"].items()
                if stat["distance_sd"] is not None and stat["distance_sd"] > 0.5}
        print(f"  {mode:24} worst {worst} sd ({row['worst_statistic']}), mean overlap {row['mean_overlap']:.2f}; "
              f"over 0.5 sd: {over}", flush=True)


def bench_model(name: str, spec: str, args, sampling: dict, scratch: Path, quick: bool = False) -> dict:
    spec, _, own_sampling = spec.partition("#")
    sampling = parse_setting(own_sampling) if own_sampling else sampling
    checkpoint_spec, data = spec.rsplit("@", 1)
    checkpoint = resolve_checkpoint(checkpoint_spec, scratch)
    representation = torch.load(checkpoint, weights_only=True)["representation"]
    spq, melody = int(representation["steps_per_quarter"]), representation["name"] == "melody"
    real = held_out(Path(data), spq, melody)
    print(f"{name} {sampling}: {checkpoint_spec} against {len(real)} held-out pieces of {data}", flush=True)
    unprimed, primed = sample_modes(checkpoint, real, sampling, args.bars, args.pieces, scratch / name)
    modes = mode_rows(real, unprimed, primed, args.bars)
    listened = {f"{args.bars}_bars": listening(unprimed), f"primed_{args.bars}_bars": listening(primed),
                f"real_{args.bars}_bars": listening([first_bars(p, args.bars) for p in real])}
    long = long_pieces(real, args.long_bars) if args.long_bars and not melody else []
    if long and not (quick and not args.sweep_long):
        unprimed_long, primed_long = sample_modes(checkpoint, long, sampling, args.long_bars, args.long_pieces,
                                                  scratch / name / "long")
        rows = mode_rows(long, unprimed_long, primed_long, args.long_bars)
        modes.update({f"{mode}_{args.long_bars}_bars": row for mode, row in rows.items() if mode != "unprimed_same_metre"})
        modes.update({f"{mode}_{args.long_bars}": row for mode, row in last_bars_rows(long, unprimed_long, primed_long, args.long_bars).items()})
        listened[f"{args.long_bars}_bars"] = listening(unprimed_long)
        listened[f"primed_{args.long_bars}_bars"] = listening(primed_long)
        listened[f"real_{args.long_bars}_bars"] = listening(long)
    show_modes(modes)
    print(f"  listening: {listened}", flush=True)
    if quick:
        return {"sampling": sampling, "modes": modes, "listening": listened}
    speed = ms_per_step(checkpoint, sampling, scratch, spq)
    return {"checkpoint": checkpoint_spec, "representation": representation["name"], "sampling": sampling, "held_out": data,
            "held_out_pieces": len(real), "long_held_out_pieces": len(long), "steps_per_quarter": spq,
            "held_out_nll": nll_per_event(checkpoint, real, scratch), "ms_per_step": speed,
            "frames_per_second": round(1000 / speed["per_extra_step"], 1), "modes": modes, "listening": listened}


def held_out_chorales() -> list[tuple[NoteSequence, NoteSequence]]:
    """(soprano, all four voices) of the held-out chorales: the test part of the seeded split (seed 0,
    valid 0.1, test 0.1) that `genseq train` makes of `genseq extract music --corpus bach-chorales`."""
    from genseq.core.pieces import seeded_split
    from genseq.music.corpora import load_corpus

    whole = load_corpus("bach-chorales", 4, "all")
    sopranos = {piece.name: piece for piece in load_corpus("bach-chorales", 4, "soprano")}
    return [(sopranos[piece.name], piece) for piece in seeded_split(whole, 0, 0.1, 0.1)[2] if piece.name in sopranos]


def without(piece: NoteSequence, removed: np.ndarray) -> NoteSequence:
    """The piece less the notes (pitch, start, end) of `removed`, each taken out once."""
    left = Counter(map(tuple, removed[:, [0, 2, 3]].tolist()))
    keep = []
    for row in piece.notes.tolist():
        key = (row[0], row[2], row[3])
        if left[key]:
            left[key] -= 1
        else:
            keep.append(row)
    return NoteSequence(np.array(keep, dtype=np.int32).reshape(-1, 5), piece.steps_per_quarter, piece.qpm,
                        list(piece.time_signatures), piece.total_steps, piece.name)


def scale_in_key(lower: NoteSequence, melody: NoteSequence) -> float:
    """Fraction of the lower voices' notes inside the major scale that holds most of the melody's notes."""
    melody_classes, lower_classes = melody.notes[:, 0] % 12, lower.notes[:, 0] % 12
    if not len(lower_classes):
        return float("nan")
    root = max(range(12), key=lambda r: np.isin(melody_classes, (MAJOR_SCALE + r) % 12).mean())
    return float(np.isin(lower_classes, (MAJOR_SCALE + root) % 12).mean())


def key_row(real: list[float], generated: list[float], unit: list[float] | None = None) -> dict:
    real_a, gen_a = np.array(real), np.array(generated)
    return {"real_mean": float(np.nanmean(real_a)), "generated_mean": float(np.nanmean(gen_a)),
            "distance_sd": distance_sd(real_a, gen_a, None if unit is None else np.array(unit))}


def with_key_statistic(result: dict, row: dict) -> dict:
    result["statistics"]["scale_in_melody_key"] = {key: None if v is None else round(v, 4) for key, v in row.items()}
    distance = row["distance_sd"]
    if distance is None or (result["worst_distance_sd"] is not None and distance > result["worst_distance_sd"]):
        result["worst_distance_sd"], result["worst_statistic"] = distance, "scale_in_melody_key"
    return result


def bench_harmonizer(name: str, checkpoint: Path, chorales: list, sampling: dict) -> dict:
    """Each held-out soprano harmonized once (seed = its index); its lower voices against the real ones."""
    from genseq.core.options import SamplingOptions
    from genseq.model.load import load_model
    from genseq.music.domain import MUSIC
    from genseq.music.harmonize import MELODY_VELOCITY, harmonize_melody

    from genseq.music.long_form import PieceControls

    loaded = load_model(checkpoint, MUSIC, "cpu")
    options = {key: value for key, value in sampling.items() if key != "controls"}
    controls = PieceControls(**sampling["controls"]) if sampling.get("controls") else None
    real_lower, generated_lower, real_key, generated_key, kept = [], [], [], [], 0
    started = time.perf_counter()
    for index, (soprano, whole) in enumerate(chorales):
        piece = harmonize_melody(loaded, soprano, SamplingOptions(**options, seed=index), controls=controls)[0]
        melody = piece.notes[piece.notes[:, 1] == MELODY_VELOCITY]
        kept += melody_line(piece).notes[:, [0, 2, 3]].tolist() == melody_line(soprano).notes[:, [0, 2, 3]].tolist()
        real_lower.append(without(whole, soprano.notes))
        generated_lower.append(without(piece, melody))
        real_key.append(scale_in_key(real_lower[-1], soprano))
        generated_key.append(scale_in_key(generated_lower[-1], soprano))
    seconds = time.perf_counter() - started
    order = np.random.default_rng(0).permutation(len(chorales))
    half_a, half_b = order[: len(order) // 2], order[len(order) // 2:]
    pick = lambda items, indices: [items[i] for i in indices]  # noqa: E731
    modes = {
        "real_vs_real": with_key_statistic(distances(compare_pieces(pick(real_lower, half_a), pick(real_lower, half_b), unit=real_lower)),
                                           key_row(pick(real_key, half_a), pick(real_key, half_b), real_key)),
        "harmonized": with_key_statistic(distances(compare_pieces(real_lower, generated_lower)), key_row(real_key, generated_key)),
    }
    show_modes(modes)
    steps = sum(s.total_steps for s, _ in chorales)
    print(f"  melody kept note for note in {kept} of {len(chorales)}; {steps / seconds:.0f} steps a second", flush=True)
    return {"checkpoint": str(checkpoint), "sampling": sampling, "chorales": len(chorales), "melody_kept_exactly": kept,
            "steps_per_second": round(steps / seconds, 1), "modes": modes}


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
    """T:TOP_P:TOP_K[:CONTROLS], CONTROLS as window=128,keep=64,candidates=4,primer_lead_in=0,epsilon=0.02
    (genseq.music.long_form.PieceControls)."""
    temperature, top_p, top_k, controls = (text.split(":") + ["", "", ""])[:4]
    setting = {"temperature": float(temperature), "top_p": float(top_p) if top_p else None, "top_k": int(top_k) if top_k else None}
    if controls:
        setting["controls"] = {key: float(value) if "." in value else int(value)
                               for key, value in (item.split("=") for item in controls.split(","))}
    return setting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["melody", "pianoroll", "melody-nottingham"],
                        help="names of MODELS, or NAME=CHECKPOINT@DATA")
    parser.add_argument("--pieces", type=int, default=40, help="unprimed samples, and primed continuations")
    parser.add_argument("--bars", type=int, default=16)
    parser.add_argument("--long-bars", type=int, default=64, help="piano rolls also this long (0: not)")
    parser.add_argument("--long-pieces", type=int, default=20, help="unprimed and primed pieces of --long-bars")
    parser.add_argument("--temperature", type=float)
    parser.add_argument("--top-k", type=int)
    parser.add_argument("--top-p", type=float)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sweep", nargs="*", default=[], metavar="T:TOP_P:TOP_K",
                        help="also try these sampling settings on the first model (empty fields: none), e.g. 0.9:0.95:")
    parser.add_argument("--sweep-long", action="store_true", help="the sweep's settings over --long-bars too")
    parser.add_argument("--harmonize", nargs="+", metavar="NAME=CHECKPOINT",
                        help="harmonize held-out chorale sopranos with these models instead")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "music_samples.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sampling = default_sampling()
    given = {"temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p}
    sampling.update({key: value for key, value in given.items() if value is not None})
    record = harmonize_record(args, sampling) if args.harmonize else samples_record(args, sampling)
    record.update({"sampling": sampling, "sampling_is_cli_default": not any(v is not None for v in given.values()),
                   "threads": args.threads, "machine": f"{os.cpu_count()} cores shared",
                   "command": shlex.join(["python", "bench/music_samples.py", *sys.argv[1:]])})
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(f"\nwrote {args.out}")


def sweep_row(mode: dict) -> dict:
    """A sweep setting's mode: its worst statistic and every statistic's distance."""
    return {"worst_distance_sd": mode["worst_distance_sd"], "worst_statistic": mode["worst_statistic"],
            "distance_sd": {name: row["distance_sd"] for name, row in mode["statistics"].items()},
            "generated_mean": {name: row["generated_mean"] for name, row in mode["statistics"].items()}}


def samples_record(args, sampling: dict) -> dict:
    specs = dict(item.split("=", 1) if "=" in item else (item, MODELS[item]) for item in args.models)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, spec in specs.items():
            results[name] = bench_model(name, spec, args, sampling, Path(scratch))
        first = next(iter(specs))
        sweep = [bench_model(f"{first} {setting}", specs[first], args, parse_setting(setting), Path(scratch), quick=True)
                 for setting in args.sweep]
    print_table(results)
    record = {"benchmark": "music_samples", "pieces": args.pieces, "bars": args.bars, "long_bars": args.long_bars,
              "long_pieces": args.long_pieces, "primer_bars": PRIMER_BARS, "last_bars": LAST_BARS,
              "target": "every statistic within 0.5 sd, unprimed and primed, over 16 and 64 bars", "models": results}
    if sweep:
        record["sweep"] = [{"sampling": row["sampling"], "listening": row["listening"],
                            **{mode: sweep_row(m) for mode, m in row["modes"].items()}} for row in sweep]
    return record


def harmonize_record(args, sampling: dict) -> dict:
    chorales = held_out_chorales()
    print(f"{len(chorales)} held-out chorales", flush=True)
    results, sweep = {}, []
    with tempfile.TemporaryDirectory() as scratch:
        for item in args.harmonize:
            name, spec = item.split("=", 1)
            checkpoint = resolve_checkpoint(spec, Path(scratch))
            print(f"harmonize {name} {sampling}", flush=True)
            results[name] = bench_harmonizer(name, checkpoint, chorales, sampling)
            for setting in args.sweep:
                print(f"harmonize {name} {setting}", flush=True)
                row = bench_harmonizer(name, checkpoint, chorales, parse_setting(setting))
                sweep.append({"model": name, "sampling": row["sampling"], "melody_kept_exactly": row["melody_kept_exactly"],
                              **{mode: sweep_row(m) for mode, m in row["modes"].items()}})
    return {"benchmark": "music_samples harmonization", "target": "melody kept note for note; the lower voices within "
            "0.5 sd of the real chorales' alto, tenor and bass on every statistic", "models": results, "sweep": sweep}


if __name__ == "__main__":
    main()
