"""Training you can see: the loss curves of a run (train and validation per epoch, the best epoch, and
where the learning rate was cut) as a PNG in the run folder, and as TensorBoard event files
(`tensorboard --logdir RUN/tensorboard`).

Both are written again from the whole history after each epoch (the history lives in the checkpoint, so
a resumed run draws the same curves as an uninterrupted one), atomically: a reader never sees half a
picture or a half-written event file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

from genseq.core.atomic import atomic_path, ensure_writable_dir

CURVES_PNG = "loss_curves.png"
TENSORBOARD_DIR = "tensorboard"


def learning_rate_drops(history: Sequence[dict], initial_lr: float | None = None) -> list[tuple[int, float]]:
    """(epoch, new rate) for each cut: an epoch's record holds the rate the next epoch trains with, so a
    record lower than the one before (or than initial_lr, for the first) is a cut after that epoch."""
    drops, before = [], initial_lr
    for record in history:
        rate = record.get("lr")
        if rate is not None and before is not None and rate < before * (1 - 1e-9):
            drops.append((int(record["epoch"]), float(rate)))
        before = rate if rate is not None else before
    return drops


def curves_figure(history: Sequence[dict], initial_lr: float | None = None, title: str = "training"):
    """A matplotlib figure (Agg, no display) of the curves."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    epochs = [int(r["epoch"]) for r in history]
    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.add_subplot()
    axes.plot(epochs, [r["train_loss"] for r in history], marker="o", markersize=3, label="train")
    axes.plot(epochs, [r["valid_loss"] for r in history], marker="o", markersize=3, label="validation")
    best = [r for r in history if r.get("best")]
    if best:
        last = best[-1]
        axes.scatter([last["epoch"]], [last["valid_loss"]], s=80, facecolors="none", edgecolors="green", zorder=3,
                     label=f"best: {last['valid_loss']:.4f} (epoch {last['epoch']})")
    for number, (epoch, rate) in enumerate(learning_rate_drops(history, initial_lr)):
        axes.axvline(epoch + 0.5, color="grey", linestyle="--", linewidth=1, label="learning rate cut" if not number else None)
        axes.annotate(f"lr {rate:.2g}", (epoch + 0.5, 0.03), xycoords=("data", "axes fraction"), rotation=90,
                      va="bottom", ha="right", fontsize=8, color="grey")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (negative log-likelihood per step)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    if epochs:
        axes.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
    figure.tight_layout()
    return figure


def write_curves_png(history: Sequence[dict], path: str | Path, initial_lr: float | None = None,
                     title: str = "training") -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        curves_figure(history, initial_lr, title).savefig(tmp, format="png")
    return path


def write_tensorboard(history: Sequence[dict], folder: str | Path) -> Path:
    """`folder` holding one event file of the whole history: loss/train, loss/valid, learning_rate,
    seconds per epoch. The new folder replaces the old one whole."""
    from torch.utils.tensorboard import SummaryWriter

    folder = Path(folder)
    ensure_writable_dir(folder.parent)
    fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        writer = SummaryWriter(log_dir=str(fresh))
        for record in history:
            step = int(record["epoch"])
            writer.add_scalar("loss/train", float(record["train_loss"]), step)
            writer.add_scalar("loss/valid", float(record["valid_loss"]), step)
            if record.get("lr") is not None:
                writer.add_scalar("learning_rate", float(record["lr"]), step)
            if record.get("seconds") is not None:
                writer.add_scalar("seconds_per_epoch", float(record["seconds"]), step)
        writer.close()
        replace_folder(fresh, folder)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return folder


def replace_folder(fresh: Path, folder: Path) -> None:
    """Put `fresh` where `folder` is: the old one is moved aside first, then removed."""
    old = folder.parent / f".{folder.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(fresh, folder)
    shutil.rmtree(old, ignore_errors=True)


def write_training_curves(run_dir: str | Path, history: Sequence[dict], initial_lr: float | None = None,
                          title: str | None = None) -> list[Path]:
    """RUN/loss_curves.png and RUN/tensorboard/ from a run's history (TrainResult.history: one record
    per epoch with epoch, train_loss, valid_loss, lr, seconds, best). Call it after each epoch."""
    run_dir = Path(run_dir)
    if not history:
        return []
    title = title or f"{run_dir.name}: {len(history)} epochs"
    return [write_curves_png(history, run_dir / CURVES_PNG, initial_lr, title), write_tensorboard(history, run_dir / TENSORBOARD_DIR)]


def remove_leftovers(run_dir: str | Path) -> None:
    """What a kill during write_training_curves can leave in a run folder: a half-written picture, a
    half-written or moved-aside event folder (the next epoch writes both whole again)."""
    run_dir = Path(run_dir)
    for stale in run_dir.glob(f".{Path(CURVES_PNG).stem}.*.tmp.png"):
        stale.unlink(missing_ok=True)
    for stale in run_dir.glob(f".{TENSORBOARD_DIR}.*"):
        shutil.rmtree(stale, ignore_errors=True)
