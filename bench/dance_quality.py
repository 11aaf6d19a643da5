"""Dance quality of a dance model at generate's sampling settings and around them, against real motion.

Protocol:
- Clips: ../shared/datasets/cmu-dance-bvh at 30 fps, three sets:
  - held_out (the bench's clips): salsa/01, 16, 09, 24, indian/06, martial/05. The bundled model
    never trained on them, but generation's defaults (temperature, low-pass, foot locking) were
    tuned on them.
  - second_held_out: indian/08, salsa/03, salsa/25, the bundled model's own validation clips (the
    seeded split, seed 0, of the 30 other clips): never trained on, and no default was tuned on
    them (they decided the bundled model's early stopping and nothing else). Their partners
    salsa/18 and salsa/10 (clip n and n+15 are two dancers of one take) are training clips.
  - training: the other 27 clips (real-vs-real and the novelty keys).
- Every setting is measured on both held-out sets (primers and real windows of the same set);
  per statistic also spread_ratio: the sd across generated windows over the sd across real ones.
- Per setting, `--samples` dances of `--seconds` continuing 2 s primers cut from the held-out clips
  (held_out_primers, seed 0), and `--long-samples` dances of `--long-seconds` (5 minutes; primers
  with seed 1) for the freeze check; each set is one batch with one generator (seed 0).
- Per 5 s window (every 1 s): pose speed, acceleration, jerk, wrist speed, foot sliding, root
  speed, body extent (genseq.motion.kinematics). Real: the held-out windows' mean and sd; a
  setting's distance per statistic is |generated mean - real mean| / real sd; worst_distance_sd
  the largest. Real-vs-real: the training clips' windows measured the same way.
- Kinetic Fréchet distance, diversity, bone-length error (genseq.motion.metrics, as
  `genseq eval dance` measures them) against the held-out clips; ratios over real-vs-real (the
  training clips against the held-out ones; diversity and bone error of the held-out clips).
- min_window_speed_ratio: the slowest 5 s window (pose speed, every frame) of the long dances over
  the median window of the held-out clips.
- Novelty: the distance (RMS per joint and sample, m) from each generated window's pose (every
  10th frame) to its nearest training window (every 3rd frame), median, over the same for the
  held-out windows (real-vs-real). Replaying training clips would give about 0.
- Decoding (DanceEncoding.to_clip): the sampled frames low-passed (a Gaussian of `smoothing`
  frames), the skeleton made rigid (limbs, and the spans across hips, shoulders and hands), the body
  put on the floor and planted feet held, slipping 0.2 of their motion (genseq.motion.contacts).
- Baseline, in the same run: the sampling and decoding as they were before this tuning
  (temperature 1, every mixture component, no low-pass, no foot locking, limbs only rigid).

Settings: name=temperature,top_k[,smoothing[,plant_feet[,style[,key=value...]]]], drawn as generation draws them
(the one sampler, genseq.model.sampler, through motion.generate.sample_dance_values: top_k keeps the k most likely mixture
components, temperature scales the spread), decoded as generation decodes (to_clip; smoothing and
plant_feet default to its defaults; style, for a model trained with styles: none as generate without
--dance-style, `primer` for each primer's own folder, or a style name). The first `--settings` entry
is the headline (generate's defaults: dance_bias=1.5, genseq.core.options.DANCE_VARIETY, generate's --variety); the name
`baseline` is the baseline above. key=value fields draw each frame with genseq.motion.mixture_draw's
controls (component_temperature, spread, dance_bias, temperature_spread, drift_bias, drift_seconds,
feed); a setting without them is drawn by the sampler itself (as generation drew before issue 20).

    .venv/bin/python bench/dance_quality.py [--checkpoint assets/dance.pt] [--settings default=1,0 baseline ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genseq.core.atomic import atomic_write_text  # noqa: E402
from genseq.core.motion import MotionClip  # noqa: E402
from genseq.motion import kinematics, metrics  # noqa: E402
from genseq.core.options import SamplingOptions  # noqa: E402
from genseq.model.load import load_model  # noqa: E402
from genseq.motion.encode import LIMB_TREE, OUTPUT_SMOOTHING_FRAMES, bone_lengths, hip_roots, local_positions, root_state  # noqa: E402
from genseq.motion.skeleton import BONE_INDICES, INDEX  # noqa: E402
from genseq.motion.domain import DANCE, load_motion_clips  # noqa: E402
from genseq.motion.evaluate import held_out_primers  # noqa: E402
from genseq.motion.generate import sample_dance_values  # noqa: E402
from genseq.motion.mixture_draw import MixtureDraw  # noqa: E402
from genseq.motion.styles import style_of  # noqa: E402

CMU = REPO.parent / "shared" / "datasets" / "cmu-dance-bvh"
STYLES = ("salsa", "indian", "martial")  # the folder's top level also has standard.bvh, a 0.1 s rest pose
HELD_OUT = ["salsa/01", "salsa/16", "salsa/09", "salsa/24", "indian/06", "martial/05"]
SECOND_HELD_OUT = ["indian/08", "salsa/03", "salsa/25"]  # the bundled model's validation clips; no default tuned on them
FPS = 30.0
FEET = [[INDEX[f"{side}_{part}"] for part in ("ankle", "heel", "foot_index")] for side in ("left", "right")]
WRISTS = [INDEX["left_wrist"], INDEX["right_wrist"]]
NOVELTY_EVERY, NOVELTY_KEY_STRIDE = 10, 3


class Measured:
    """What the comparisons need of a set of clips."""

    def __init__(self, clips: list[MotionClip]):
        self.clips = clips
        locals_ = [local_positions(c) for c in clips]
        self.stats = kinematics.pooled([
            kinematics.window_statistics(lp, c.positions, c.valid, c.fps, WRISTS, FEET, hip_roots(c.positions))
            for lp, c in zip(locals_, clips)])
        self.speeds = [metrics.windowed_mean_speed(lp, c.valid, c.fps) for lp, c in zip(locals_, clips)]
        self.kinetic = [metrics.kinetic_features(c.positions, c.valid, c.fps) for c in clips]
        self.bone_error = float(np.nanmean([metrics.bone_length_error(c.positions, c.valid, BONE_INDICES) for c in clips]))
        self.poses = [kinematics.pose_windows(lp[:, joints_of(c)], c.fps, NOVELTY_EVERY) for lp, c in zip(locals_, clips)]


def joints_of(clip: MotionClip) -> np.ndarray:
    return np.flatnonzero(clip.valid.all(axis=0))


def training_keys(clips: list[MotionClip]) -> np.ndarray:
    return np.concatenate([kinematics.pose_windows(local_positions(c)[:, joints_of(c)], c.fps, NOVELTY_EVERY,
                                                   stride_frames=NOVELTY_KEY_STRIDE) for c in clips])


def compare(generated: Measured, real: Measured, keys: np.ndarray, reference: dict | None = None) -> dict:
    table = kinematics.statistic_table(generated.stats, real.stats)
    real_kinetic = np.concatenate(real.kinetic)
    novelty = float(np.median(kinematics.nearest_distances(np.concatenate(generated.poses), keys)))
    result = {
        "worst_distance_sd": kinematics.worst_distance(table), "narrowest_spread_ratio": kinematics.narrowest_spread(table),
        "table": table, "frechet_kinetic": metrics.frechet_distance(np.concatenate(generated.kinetic), real_kinetic),
        "diversity": metrics.diversity(generated.kinetic, real_kinetic) if len(generated.kinetic) > 1 else None,
        "bone_length_error": generated.bone_error, "nearest_training_window_m": novelty,
    }
    if reference:
        result["frechet_ratio"] = result["frechet_kinetic"] / reference["frechet_kinetic"]
        result["diversity_ratio"] = result["diversity"] / reference["diversity"]
        result["bone_error_ratio"] = result["bone_length_error"] / reference["bone_length_error"]
        result["novelty_ratio"] = novelty / reference["nearest_training_window_m"]
    return result


class RealSet:
    """One held-out set: its clips measured, and real-vs-real (the training clips against it)."""

    def __init__(self, name: str, clips: list[MotionClip], training: list[MotionClip], keys: np.ndarray):
        self.name, self.clips, self.real = name, clips, Measured(clips)
        self.reference = {
            "diversity": metrics.diversity(self.real.kinetic, np.concatenate(self.real.kinetic)),
            "bone_length_error": self.real.bone_error,
            "nearest_training_window_m": float(np.median(kinematics.nearest_distances(np.concatenate(self.real.poses), keys)))}
        self.real_vs_real = compare(Measured(training), self.real, keys)
        self.reference["frechet_kinetic"] = self.real_vs_real["frechet_kinetic"]
        self.real_vs_real.update(real_reference=self.reference, note=f"the {len(training)} training clips' windows "
                                 "against these clips'; diversity, bone error and novelty are these clips' own")


def encoding_of(loaded):
    """The DanceEncoding of a loaded model (`representation`; `encoding` before genseq.model.runs)."""
    return loaded.representation


def decode(loaded, primers: list[MotionClip], values: np.ndarray, name: str, setting: dict) -> list[MotionClip]:
    encoding = encoding_of(loaded)
    limbs = {f"{a}>{b}" for a, b in LIMB_TREE}
    clips = []
    for index, (primer, rows) in enumerate(zip(primers, values)):
        lengths = {**encoding.bone_lengths, **bone_lengths(primer)}
        if setting.get("limbs_only"):  # no spans: decoding as it was before genseq.motion.rigid's spans
            lengths = {k: v for k, v in lengths.items() if k in limbs}
        clips.append(encoding.to_clip(rows, root_state(primer), lengths, f"{name}_{index:03d}", setting["smoothing"],
                                      setting["plant_feet"]))
    return clips


def primer_styles(loaded, primers: list[MotionClip], asked: str | None) -> list[str | None]:
    """The style given with each primer: none, the primer's own folder ('primer'), or one named style."""
    styles = encoding_of(loaded).styles
    if asked in (None, "none") or not styles:
        return [None] * len(primers)
    return [style_of(p.name) if asked == "primer" else asked for p in primers]


def generate(loaded, primers: list[MotionClip], steps: int, setting: dict, seed: int, name: str) -> list[MotionClip]:
    """All primers in one batch (they have one length), drawn by the one sampler as generation draws."""
    encoding = encoding_of(loaded)
    inputs = np.stack([encoding.normalise(*(lambda f: (f.values, f.mask))(encoding.features(p))) for p in primers])
    options = SamplingOptions(temperature=setting["temperature"], top_k=setting["top_k"] or None, seed=seed)
    values = sample_dance_values(loaded, inputs, steps, options, len(primers),
                                 style=primer_styles(loaded, primers, setting.get("style")), draw=mixture_draw(setting))
    return decode(loaded, primers, values, name, setting)


def mixture_draw(setting: dict) -> MixtureDraw | None:
    """The setting's own mixture draw (genseq.motion.mixture_draw), or None for the sampler's."""
    changes = {k: setting[k] for k in DRAW_FIELDS if setting.get(k) is not None}
    return MixtureDraw.from_temperature(setting["temperature"], **changes) if changes else None


def freeze_ratio(clips: list[MotionClip], real: Measured) -> float:
    speeds = [metrics.windowed_mean_speed(local_positions(c), c.valid, c.fps) for c in clips]
    return metrics.min_window_speed_ratio(speeds, real.speeds)


DRAW_FIELDS = ("component_temperature", "spread", "dance_bias", "temperature_spread", "drift_bias", "drift_seconds", "feed")


def parse_setting(text: str) -> tuple[str, dict]:
    """'name=temperature,top_k[,smoothing[,plant_feet[,style[,key=value...]]]]' (top_k 0: all components;
    smoothing in frames and plant_feet 1/0 as DanceEncoding.to_clip takes them, by default its defaults;
    an empty field keeps its default; style: none (the default, as generate without --dance-style),
    primer (each primer's own folder) or a style name, for a model trained with styles); key=value
    fields set genseq.motion.mixture_draw's controls: component_temperature, spread, dance_bias
    (numbers), feed (sample or mean); unset, they follow the temperature as the sampler draws."""
    name, _, values = text.partition("=")
    fields = values.split(",")
    draw = dict(field.split("=", 1) for field in fields if "=" in field)
    unknown = sorted(set(draw) - set(DRAW_FIELDS))
    if unknown:
        raise SystemExit(f"unknown setting field(s) {unknown} in {text!r}: known {list(DRAW_FIELDS)}")
    parts = [field for field in fields if "=" not in field] + [""] * 5
    if name == "baseline":  # the sampling and decoding before bench/dance_quality's tuning
        return name, {"temperature": 1.0, "top_k": None, "smoothing": 0.0, "plant_feet": False, "limbs_only": True}
    return name, {"temperature": float(parts[0]), "top_k": int(parts[1] or 0) or None,
                  "smoothing": float(parts[2]) if parts[2] else OUTPUT_SMOOTHING_FRAMES,
                  "plant_feet": bool(int(parts[3])) if parts[3] else True, "style": parts[4] or None,
                  **{k: (v if k == "feed" else float(v)) for k, v in draw.items() if k in DRAW_FIELDS}}


def rounded(value):
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def one_line(name: str, r: dict) -> str:
    stats = " ".join(f"{k[:5]} {row['generated_mean']:.2f}({row['distance_sd']:.1f};x{row['spread_ratio']:.2f})"
                     for k, row in r["table"].items())
    extra = "".join(f" {k} {r[k]:.2f}" for k in ("frechet_ratio", "diversity_ratio", "bone_error_ratio", "novelty_ratio",
                                                  "min_window_speed_ratio") if r.get(k) is not None)
    return (f"{name:>22}: worst {r['worst_distance_sd']:.2f} sd, narrowest spread x{r['narrowest_spread_ratio']:.2f} | "
            f"{stats} |{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=REPO / "assets" / "dance.pt")
    parser.add_argument("--settings", nargs="+",
                        default=["default=1.2,0,,,,dance_bias=1.5", "no_dance_bias=1.2,0",
                                 "dance_energy=1.2,0,,,,dance_bias=1.5,component_temperature=1.4,temperature_spread=0.4",
                                 "drifting_bias=1.2,0,,,,dance_bias=1.5,drift_bias=1.5,drift_seconds=2",
                                 "component_t0.7=1.2,0,,,,component_temperature=0.7", "feed_means=1.2,0,,,,dance_bias=1.5,feed=mean",
                                 "baseline"],
                        help="name=temperature,top_k[,smoothing[,plant_feet[,style]]]; the first is generate's defaults")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--long-samples", type=int, default=3)
    parser.add_argument("--long-seconds", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "dance_quality.json")
    parser.add_argument("--sets", nargs="+", default=["held_out", "second_held_out"], help="explore on fewer")
    parser.add_argument("--no-long", action="store_true", help="skip the long dances (exploring only)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    load, started = os.getloadavg()[0], time.perf_counter()
    clips = [c for c in load_motion_clips(CMU, FPS) if c.name.split("/")[0] in STYLES]
    training = [c for c in clips if c.name not in HELD_OUT + SECOND_HELD_OUT]
    keys = training_keys(training)
    sets = [RealSet(name, [c for c in clips if c.name in names], training, keys)
            for name, names in (("held_out", HELD_OUT), ("second_held_out", SECOND_HELD_OUT))]
    for real_set in sets:
        print(one_line(f"{real_set.name} real_vs_real", real_set.real_vs_real), flush=True)

    loaded = load_model(args.checkpoint, DANCE, "cpu")
    primers = {s.name: held_out_primers(s.clips, args.samples, args.seed) for s in sets}
    long_primers = held_out_primers(sets[0].clips, args.long_samples, args.seed + 1)
    steps, long_steps = round(args.seconds * FPS), round(args.long_seconds * FPS)
    results = {}
    for text in args.settings:
        name, setting = parse_setting(text)
        tic = time.perf_counter()
        result = {}
        for real_set in [s for s in sets if s.name in args.sets]:
            generated = generate(loaded, primers[real_set.name], steps, setting, args.seed, name)
            result[real_set.name] = compare(Measured(generated), real_set.real, keys, real_set.reference)
            print(one_line(f"{name} {real_set.name}", result[real_set.name]), flush=True)
        if not args.no_long:
            result["held_out"]["min_window_speed_ratio"] = freeze_ratio(
                generate(loaded, long_primers, long_steps, setting, args.seed, name), sets[0].real)
        result.update(generation_seconds=time.perf_counter() - tic, sampling=setting)
        results[name] = result
        if not args.no_long:
            print(f"{name:>22}: slowest 5 s window of the long dances x{result['held_out']['min_window_speed_ratio']:.2f}",
                  flush=True)
    if args.no_long or len(args.sets) < len(sets):
        print(f"exploring (--sets / --no-long): no report written, {time.perf_counter() - started:.0f} s")
        return
    write_report(args, results, sets, training, primers, long_primers, load, started)


KEYS = ("worst_distance_sd", "narrowest_spread_ratio", "frechet_ratio", "diversity_ratio", "bone_error_ratio",
        "novelty_ratio", "min_window_speed_ratio")


def targets(headline: dict) -> dict:
    first, second = headline["held_out"], headline["second_held_out"]
    return {
        "every statistic within 0.5 sd (held_out)": first["worst_distance_sd"] <= 0.5,
        "every statistic within 0.5 sd (second_held_out)": second["worst_distance_sd"] <= 0.5,
        "every spread >= 0.7x real (held_out)": first["narrowest_spread_ratio"] >= 0.7,
        "every spread >= 0.7x real (second_held_out)": second["narrowest_spread_ratio"] >= 0.7,
        "frechet_ratio <= 2 (held_out)": first["frechet_ratio"] <= 2.0,
        "frechet_ratio <= 2 (second_held_out)": second["frechet_ratio"] <= 2.0,
        "diversity_ratio >= 0.8 (held_out)": first["diversity_ratio"] >= 0.8,
        "diversity_ratio >= 0.8 (second_held_out)": second["diversity_ratio"] >= 0.8,
        "bone_error_ratio <= 2": first["bone_error_ratio"] <= 2.0,
        "min_window_speed_ratio >= 0.2": first["min_window_speed_ratio"] >= 0.2,
    }


def write_report(args, results, sets, training, primers, long_primers, load, started) -> None:
    headline_name = args.settings[0].partition("=")[0]
    headline = results[headline_name]
    command = " ".join([".venv/bin/python", *map(shlex.quote, [os.path.relpath(sys.argv[0], REPO), *sys.argv[1:]])])
    summary = {name: {part: {k: r[part].get(k) for k in KEYS} for part in ("held_out", "second_held_out")}
               for name, r in results.items()}
    spreads = {name: {part: {k: row["spread_ratio"] for k, row in r[part]["table"].items()}
                      for part in ("held_out", "second_held_out")} for name, r in results.items()}
    report = {
        "benchmark": "dance_quality", "command": command, "checkpoint": os.path.relpath(args.checkpoint, REPO),
        "defaults": {"name": headline_name, **headline["sampling"]},
        "headline": summary[headline_name], "targets": targets(headline), "summary": summary,
        "spread_ratios": spreads, "results": results,
        "real_vs_real": {s.name: s.real_vs_real for s in sets},
        "protocol": {
            "clips": f"{CMU.relative_to(REPO.parent)} at {FPS:g} fps",
            "held_out": HELD_OUT, "second_held_out": SECOND_HELD_OUT, "training_clips": len(training),
            "seconds_of_motion": {s.name: round(sum(c.seconds for c in s.clips), 1) for s in sets},
            "samples": args.samples, "seconds_each": args.seconds, "long_samples": args.long_samples,
            "long_seconds_each": args.long_seconds, "long_dances_from": "held_out", "primer_seconds": 2.0,
            "seed": args.seed, "primers": {k: [p.name for p in v] for k, v in primers.items()},
            "long_primers": [p.name for p in long_primers],
            "windows": "5 s every 1 s (statistics, kinetic features); every frame for the freeze check",
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs shared by several engineers (load average {load:.1f} "
                   f"at the start), torch {torch.__version__} on 1 thread; {time.perf_counter() - started:.0f} s in all",
    }
    atomic_write_text(args.out, json.dumps(rounded(report), indent=1) + "\n")
    print(json.dumps(rounded({k: report[k] for k in ("defaults", "headline", "targets")}), indent=1))


if __name__ == "__main__":
    main()
