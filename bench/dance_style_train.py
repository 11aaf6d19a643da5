"""Train a style-conditioned dance model, warm-started from the bundled one (issue 20).

The bundled model (assets/dance.pt) is copied into a model whose inputs also carry the clip's style
(its CMU folder: salsa, indian, martial) as a one-hot: every weight is kept and the new style
columns start at zero, so training begins where the bundled model is and learns what the style
adds. Data: the 30 CMU clips the bundled model saw (not bench/dance_quality's HELD_OUT), linked
into `--work`/data/STYLE/NN.bvh; the same seeded split, so the same 27 clips train and indian/08,
salsa/03, salsa/25 only validate (bench/dance_quality's second held-out set). The run resumes:
run it again with the same arguments and it carries on from `--work`/run/last.pt.

    OMP_NUM_THREADS=1 nohup .venv/bin/python bench/dance_style_train.py --max-minutes 70 > LOG 2>&1 &
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genseq.core.config import DanceConfig  # noqa: E402
from genseq.model.checkpoint import LAST, load_checkpoint, save_checkpoint  # noqa: E402
from genseq.model.load import build_model  # noqa: E402
from genseq.model.recurrent import count_parameters  # noqa: E402
from genseq.model.train import spec_for, train_domain  # noqa: E402
from genseq.motion.domain import DANCE  # noqa: E402

CMU = REPO.parent / "shared" / "datasets" / "cmu-dance-bvh"
HELD_OUT = ["salsa/01", "salsa/16", "salsa/09", "salsa/24", "indian/06", "martial/05"]  # bench/dance_quality's
STYLES = ("salsa", "indian", "martial")


def link_training_clips(folder: Path) -> Path:
    for style in STYLES:
        (folder / style).mkdir(parents=True, exist_ok=True)
        for source in sorted((CMU / style).glob("*.bvh")):
            link = folder / style / source.name
            if f"{style}/{source.stem}" not in HELD_OUT and not link.exists():
                link.symlink_to(source)
    return folder


def widened(old: torch.Tensor, new_shape: torch.Size) -> torch.Tensor:
    """The old weight in a tensor of the new shape: the input columns added at the end start at zero."""
    out = torch.zeros(new_shape, dtype=old.dtype)
    out[tuple(slice(0, n) for n in old.shape)] = old
    return out


def warm_start(run: Path, data: Path, config: DanceConfig, bundled: dict) -> None:
    """run/last.pt: the spec train_domain will build, holding the bundled weights (style columns zero)."""
    split = DANCE.load_split(data, config)
    representation = DANCE.representation_for(config, split.train)
    source = DANCE.training_source(representation, split.train, config)
    spec = spec_for(DANCE, representation, config, source.plain)
    model = build_model(vars(spec))
    state = {name: widened(bundled["state_dict"][name], value.shape) for name, value in model.state_dict().items()}
    model.load_state_dict(state)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.lr, weight_decay=config.train.weight_decay)
    run.mkdir(parents=True, exist_ok=True)
    save_checkpoint(run / LAST, {
        "kind": spec.kind, "head": spec.head, "input_size": spec.input_size, "output_size": spec.output_size,
        "value_size": spec.value_size, "representation": spec.representation, "config": spec.config,
        "params": count_parameters(model), "state_dict": model.state_dict(), "optimizer": optimizer.state_dict(),
        "train_state": {"epoch": 0, "best_valid_loss": float("inf"), "bad_epochs": 0, "train_seconds": 0.0,
                        "history": [], "warm_start": "assets/dance.pt"}})
    print(f"warm start from the bundled model: styles {representation.styles}, input size {spec.input_size}, "
          f"train {len(split.train)} clips, validate {[c.name for c in split.valid]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/genseq-dance-style"))
    parser.add_argument("--bundled", type=Path, default=REPO / "assets" / "dance.pt")
    parser.add_argument("--max-minutes", type=float, default=60.0)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--style-dropout", type=float, default=0.2)
    parser.add_argument("--no-styles", action="store_true", help="the control: the same warm start and training, no styles")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bundled = load_checkpoint(args.bundled, kind="dance")
    settings = dict(bundled["config"])
    settings.update(styles=not args.no_styles, style_dropout=0.0 if args.no_styles else args.style_dropout)
    settings["train"] = {**settings["train"], "lr": args.lr, "max_minutes": args.max_minutes}
    config = DanceConfig.model_validate(settings)
    data = link_training_clips(args.work / "data")
    run = args.work / ("run_plain" if args.no_styles else "run")
    if not (run / LAST).exists():
        warm_start(run, data, config, bundled)
    result = train_domain(DANCE, data, run, config, "cpu", show_progress=False,
                          progress=lambda r: print(f"epoch {r['epoch']}: train {r['train_loss']:.3f} valid "
                                                   f"{r['valid_loss']:.3f} {r['seconds']:.0f} s{' best' if r['best'] else ''}",
                                                   flush=True))
    print(f"stopped: {result.stopped_because}; {result.epochs_run} epochs, {result.train_seconds:.0f} s, "
          f"best valid {result.best_valid_loss:.3f} -> {result.best_checkpoint}", flush=True)


if __name__ == "__main__":
    main()
