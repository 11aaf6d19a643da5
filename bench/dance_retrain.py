"""Train the bundled dance model further: the same model and data as bench/dance_quality.py's protocol
(the 30 CMU training clips; the held-out clips never seen), started from a checkpoint's weights.

The run folder gets a last.pt holding the starting checkpoint's weights, its training state and a
fresh Adam state, with the representation fitted again on the same clips (equal normalisation,
asserted; the new bone spans added), so `train_dance` resumes it as if it had trained all along,
under the new train settings (budget, learning rate, auto-conditioning schedule).

    OMP_NUM_THREADS=1 .venv/bin/python bench/dance_retrain.py --from assets/dance.pt --minutes 25 --out runs/dance_retrain

--tempo LOW HIGH: tempo augmentation (genseq.motion.tempo): each epoch each clip is played at a speed
drawn log-uniform in [1/HIGH, 1/LOW] of its own (stretched in time by a factor in [LOW, HIGH]).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genseq.core.config import DanceConfig  # noqa: E402
from genseq.core.motion import save_clip  # noqa: E402
from genseq.model.checkpoint import LAST, load_checkpoint, save_checkpoint  # noqa: E402
from genseq.model.recurrent import count_parameters  # noqa: E402
from genseq.model.load import build_model  # noqa: E402
from genseq.model.train import spec_for, train_domain  # noqa: E402
from genseq.motion.domain import DANCE, DanceDomain, load_motion_clips, load_motion_files, long_enough_clips, split_clips  # noqa: E402
from genseq.motion.encode import fit_encoding  # noqa: E402

CMU = REPO.parent / "shared" / "datasets" / "cmu-dance-bvh"
STYLES = ("salsa", "indian", "martial")
HELD_OUT = ["salsa/01", "salsa/16", "salsa/09", "salsa/24", "indian/06", "martial/05"]


def write_training_clips(folder: Path, fps: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for clip in load_motion_clips(CMU, fps):
        if clip.name.split("/")[0] in STYLES and clip.name not in HELD_OUT:
            save_clip(clip, folder / f"{clip.name.replace('/', '_')}.npz")


def seed_run(start: Path, data: Path, out: Path, config: DanceConfig, tempo: tuple[float, float]) -> None:
    """out/last.pt: the start checkpoint's weights and training state, under `config`."""
    old = load_checkpoint(start, kind="dance")
    clips, _ = long_enough_clips(load_motion_files(data, config.fps)[0], config.min_clip_seconds)
    train_clips, _, _ = split_clips(clips, config.train.seed, config.train.valid_fraction)
    encoding = fit_encoding(train_clips, config.fps, config.mirror)
    for key in ("mean", "std"):
        if not np.allclose(old["representation"][key], encoding.metadata()[key], atol=1e-5):
            raise SystemExit(f"the start checkpoint was trained on other data: its {key} differs")
    spec = spec_for(DANCE, encoding, config)
    model = build_model(vars(spec))
    model.load_state_dict(old["state_dict"])
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.lr, weight_decay=config.train.weight_decay)
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out / LAST, {
        "kind": spec.kind, "head": spec.head, "input_size": spec.input_size, "output_size": spec.output_size,
        "value_size": spec.value_size, "representation": spec.representation, "config": spec.config,
        "params": count_parameters(model), "state_dict": model.state_dict(),
        "train_state": {**old["train_state"], "bad_epochs": 0, "tempo_augmentation": list(tempo),
                        "warm_start": str(start)}, "optimizer": optimizer.state_dict(),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="start", type=Path, default=REPO / "assets" / "dance.pt")
    parser.add_argument("--minutes", type=float, default=25.0, help="training budget on top of the start's")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--truth-steps", type=int, default=5)
    parser.add_argument("--self-steps", type=int, default=5)
    parser.add_argument("--tempo", type=float, nargs=2, default=(1.0, 1.0), metavar=("LOW", "HIGH"),
                        help="time-stretch factors of the tempo augmentation (1 1: none)")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "dance_retrain")
    args = parser.parse_args()
    torch.set_num_threads(1)
    old = load_checkpoint(args.start, kind="dance")
    raw = dict(old["config"])
    spent = old["train_state"]["train_seconds"] / 60
    raw["train"] = {**raw["train"], "lr": args.lr, "max_minutes": spent + args.minutes, "patience": 40,
                    "condition_truth_steps": args.truth_steps, "condition_self_steps": args.self_steps}
    config = DanceConfig.model_validate(raw)
    data = args.out / "data" / "train"
    write_training_clips(data, config.fps)
    if not (args.out / LAST).exists():
        seed_run(args.start, data, args.out, config, tuple(args.tempo))
    print(f"tempo augmentation: stretch factors {args.tempo[0]:g} to {args.tempo[1]:g}", flush=True)
    result = train_domain(DanceDomain(tuple(args.tempo)), data, args.out, config, "cpu", show_progress=False,
                         progress=lambda r: print(f"epoch {r['epoch']}: train {r['train_loss']:.2f} valid "
                                                  f"{r['valid_loss']:.2f} {r['seconds']:.1f}s", flush=True))
    print(f"done: {result.epochs_run} epochs, best valid {result.best_valid_loss:.3f}, {result.stopped_because}, "
          f"best checkpoint {result.best_checkpoint}")


if __name__ == "__main__":
    main()
