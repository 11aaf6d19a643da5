"""Training, for every domain. train_domain reads a domain's data, splits it and starts the run
(genseq/core/domain.py says what a domain provides); train is the one loop: windows of encoded
pieces, validation each epoch, best checkpoint kept, early stopping, gradient clipping, resumable, seeded.

Resuming is exact: each epoch draws its randomness from (seed, epoch), so an interrupted
run resumed from ``last.pt`` continues as if it had never stopped.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from genseq.core.atomic import ensure_writable_dir
from genseq.core.config import TrainConfig, config_yaml
from genseq.core.domain import Domain, marginal_output_bias
from genseq.core.errors import GenseqError
from genseq.core.lock import locks_run_folder, run_lock
from genseq.core.resources import check_model_memory
from genseq.core.pieces import EncodedPiece, PieceSource
from genseq.model import heads
from genseq.model.checkpoint import BEST, LAST, check_resumable, check_resume_seed, load_checkpoint, save_checkpoint
from genseq.model.curves import remove_leftovers, write_training_curves
from genseq.model.load import build_model
from genseq.model.recurrent import StackedRecurrent, count_parameters, pick_device
from genseq.model.runs import start_run



@dataclass
class ModelSpec:
    """What a domain tells the trainer: the sizes and head, plus what goes into the checkpoint."""

    kind: str  # "music" or "dance"
    head: str
    input_size: int
    output_size: int
    representation: dict
    config: dict  # the full validated config of the run (config["model"]: the ModelConfig), in every checkpoint
    initial_output_bias: list[float] | None = None  # e.g. log-odds of each key: a sane start
    value_size: int | None = None  # size of one target value (mdn: D); input[..., :value_size] is the previous value

    def __post_init__(self) -> None:
        self.value_size = self.value_size or self.output_size


@dataclass
class TrainResult:
    run_dir: Path
    best_checkpoint: Path
    best_valid_loss: float
    epochs_run: int
    train_seconds: float
    params: int
    history: list[dict] = field(default_factory=list)
    stopped_because: str = ""


def make_windows(lengths: Sequence[int], seq_len: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """Cut every piece into windows of at most seq_len steps at a random phase; each step once."""
    windows = []
    for index, length in enumerate(lengths):
        offset = int(rng.integers(0, min(seq_len, length))) if length > seq_len else 0
        cuts = [0] + list(range(offset or seq_len, length, seq_len)) + [length]
        windows.extend((index, a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b > a)
    rng.shuffle(windows)
    return windows


@dataclass
class Batch:
    inputs: torch.Tensor  # (B, T, F)
    targets: torch.Tensor  # (B, T) or (B, T, D)
    target_mask: torch.Tensor | None  # (B, T, D) or None
    mask: torch.Tensor  # (B, T): 1 on real steps, 0 on padding


def collate(pieces: Sequence[EncodedPiece], spans: Sequence[tuple[int, int, int]], device: torch.device) -> Batch:
    """Pad windows into one batch."""
    longest = max(b - a for _, a, b in spans)
    first = pieces[spans[0][0]]
    has_mask = getattr(first, "target_mask", None) is not None
    inputs = np.zeros((len(spans), longest, first.inputs.shape[1]), dtype=np.float32)
    targets = np.zeros((len(spans), longest) + first.targets.shape[1:], dtype=first.targets.dtype)
    target_mask = np.zeros(targets.shape, dtype=np.float32) if has_mask else None
    mask = np.zeros((len(spans), longest), dtype=np.float32)
    for row, (index, a, b) in enumerate(spans):
        inputs[row, : b - a] = pieces[index].inputs[a:b]
        targets[row, : b - a] = pieces[index].targets[a:b]
        if has_mask:
            target_mask[row, : b - a] = pieces[index].target_mask[a:b]
        mask[row, : b - a] = 1.0
    as_tensor = lambda array: torch.from_numpy(array).to(device)  # noqa: E731
    return Batch(as_tensor(inputs), as_tensor(targets), None if target_mask is None else as_tensor(target_mask), as_tensor(mask))


def auto_conditioned_forward(model, inputs: torch.Tensor, head: str, value_size: int, truth_steps: int, self_steps: int):
    """acLSTM (Zhou et al. 2018): alternate `truth_steps` steps fed the data with `self_steps`
    steps fed the model's own previous prediction, so long generations do not freeze."""
    period = truth_steps + self_steps
    outputs, state, step = [], None, 0
    while step < inputs.shape[1]:
        if step % period < truth_steps:
            span = min(truth_steps - step % period, inputs.shape[1] - step)
            out, state = model(inputs[:, step : step + span], state)
        else:
            fed = inputs[:, step : step + 1].clone()
            fed[..., :value_size] = heads.point_prediction(head, outputs[-1][:, -1:], value_size).detach()
            out, state = model(fed, state)
        outputs.append(out)
        step += out.shape[1]
    return torch.cat(outputs, dim=1)


@torch.no_grad()
def step_losses_of(model: StackedRecurrent, pieces: Sequence[EncodedPiece], head: str, device: torch.device, batch_size: int = 32):
    """Per piece: the NLL of every predicted step and the argmax prediction (categorical heads)."""
    model.eval()
    order = sorted(range(len(pieces)), key=lambda i: len(pieces[i].inputs))
    results: list = [None] * len(pieces)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        spans = [(i, 0, len(pieces[i].inputs)) for i in chunk]
        batch = collate(pieces, spans, device)
        outputs, _ = model(batch.inputs)
        losses = model.step_losses(head, outputs, batch.targets, batch.target_mask).cpu().numpy()
        predictions = outputs.argmax(-1).cpu().numpy() if head == "categorical" else None
        for row, (i, _, length) in enumerate(spans):
            results[i] = (losses[row, :length], None if predictions is None else predictions[row, :length])
    return results


def mean_loss(model, pieces, head, device) -> float:
    per_piece = step_losses_of(model, pieces, head, device)
    total = sum(float(losses.sum()) for losses, _ in per_piece)
    return total / max(1, sum(len(losses) for losses, _ in per_piece))


@locks_run_folder("run_dir")  # one training at a time per run folder
def train(
    spec: ModelSpec,
    train_config: TrainConfig,
    source: PieceSource,
    valid_pieces: Sequence[EncodedPiece],
    run_dir: str | Path,
    device: str | None = None,
    progress: Callable[[dict], None] | None = None,
    show_progress: bool = True,
) -> TrainResult:
    run_dir = ensure_writable_dir(run_dir)
    if not valid_pieces:
        raise GenseqError("no validation pieces: need at least one piece to validate on", run_dir)
    torch_device = pick_device(device)
    torch.manual_seed(train_config.seed)
    check_model_memory(spec.config["model"], spec.input_size, spec.output_size, train_config)
    model = build_model(vars(spec)).to(torch_device)
    if spec.initial_output_bias is not None:
        with torch.no_grad():
            model.head.bias[: len(spec.initial_output_bias)].copy_(torch.tensor(spec.initial_output_bias, dtype=torch.float32))
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.lr, weight_decay=train_config.weight_decay)
    state = {"epoch": 0, "best_valid_loss": math.inf, "bad_epochs": 0, "train_seconds": 0.0, "history": []}
    last_path = run_dir / LAST
    for stale in run_dir.glob(".*.tmp.pt"):  # a save cut off by a kill; last.pt itself is always whole
        stale.unlink()
    remove_leftovers(run_dir)
    if last_path.exists():
        check_resume_seed(last_path, train_config.seed)
        state = resume_state(last_path, spec, model, optimizer, torch_device)

    def payload(epoch_state: dict, with_optimizer: bool) -> dict:
        data = {
            "kind": spec.kind, "head": spec.head, "input_size": spec.input_size, "output_size": spec.output_size,
            "value_size": spec.value_size,
            "representation": spec.representation, "config": spec.config, "params": count_parameters(model),
            "state_dict": model.state_dict(), "train_state": epoch_state,
        }
        if with_optimizer:
            data["optimizer"] = optimizer.state_dict()
        return data

    stopped = "reached the epoch limit"
    while state["epoch"] < train_config.epochs:
        if state["bad_epochs"] >= train_config.patience:
            stopped = f"early stop: no better validation loss in {train_config.patience} epochs"
            break
        if train_config.max_minutes and state["history"]:
            epoch_seconds = state["history"][-1]["seconds"]
            if state["train_seconds"] + epoch_seconds > train_config.max_minutes * 60:
                stopped = f"time budget of {train_config.max_minutes} minutes"
                break
        epoch = state["epoch"] + 1
        started, cpu_started = time.perf_counter(), time.process_time()
        train_loss = run_epoch(model, optimizer, spec, train_config, source, epoch, torch_device, show_progress)
        valid_loss = mean_loss(model, valid_pieces, spec.head, torch_device)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started  # robust to other jobs sharing the cores
        improved = valid_loss < state["best_valid_loss"] - 1e-6
        state["best_valid_loss"] = min(valid_loss, state["best_valid_loss"])
        state["bad_epochs"] = 0 if improved else state["bad_epochs"] + 1
        if state["bad_epochs"] and state["bad_epochs"] % max(1, train_config.patience // 2) == 0:
            for group in optimizer.param_groups:
                group["lr"] *= train_config.lr_decay
        record = {"epoch": epoch, "train_loss": train_loss, "valid_loss": valid_loss, "seconds": seconds, "cpu_seconds": cpu_seconds,
                  "lr": optimizer.param_groups[0]["lr"], "best": improved}
        state = {**state, "epoch": epoch, "train_seconds": state["train_seconds"] + seconds, "history": state["history"] + [record]}
        if improved:
            save_checkpoint(run_dir / BEST, payload(state, with_optimizer=False))
        save_checkpoint(last_path, payload(state, with_optimizer=True))
        write_training_curves(run_dir, state["history"], train_config.lr)  # RUN/loss_curves.png, RUN/tensorboard/
        if show_progress:
            tqdm.write(f"epoch {epoch}: train {train_loss:.4f}  valid {valid_loss:.4f}{'  (best)' if improved else ''}  {seconds:.1f}s")
        if progress:
            progress({**record, "epochs": train_config.epochs})
    return TrainResult(run_dir, run_dir / BEST, state["best_valid_loss"], state["epoch"], state["train_seconds"],
                       count_parameters(model), state["history"], stopped)


def resume_state(last_path: Path, spec: ModelSpec, model, optimizer, device) -> dict:
    saved = load_checkpoint(last_path, kind=spec.kind, map_location=device)
    built_as = (saved["config"]["model"], saved["representation"], saved["input_size"], saved["output_size"])
    if built_as != (spec.config["model"], spec.representation, spec.input_size, spec.output_size):
        raise GenseqError("run folder holds a run of another model or representation; use a new --out folder", last_path.parent)
    model.load_state_dict(saved["state_dict"])
    optimizer.load_state_dict(saved["optimizer"])
    return saved["train_state"]


def run_epoch(model, optimizer, spec: ModelSpec, config: TrainConfig, source: PieceSource, epoch, device, show_progress) -> float:
    rng = np.random.default_rng([config.seed, epoch])
    torch.manual_seed(config.seed * 100_003 + epoch)
    pieces = source.epoch(rng)
    windows = make_windows([len(p.inputs) for p in pieces], config.seq_len, rng)
    batches = [windows[i : i + config.batch_size] for i in range(0, len(windows), config.batch_size)]
    if config.max_batches_per_epoch:
        batches = batches[: config.max_batches_per_epoch]
    model.train()
    total, frames = 0.0, 0.0
    bar = tqdm(batches, desc=f"epoch {epoch}", unit="batch", leave=False, disable=None if show_progress else True)  # None: off when not a terminal
    for spans in bar:
        batch = collate(pieces, spans, device)
        if config.condition_self_steps:
            outputs = auto_conditioned_forward(model, batch.inputs, spec.head, spec.value_size,
                                               config.condition_truth_steps, config.condition_self_steps)
        else:
            outputs, _ = model(batch.inputs)
        losses = model.step_losses(spec.head, outputs, batch.targets, batch.target_mask) * batch.mask
        loss = losses.sum() / batch.mask.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        total += float(losses.detach().sum())
        frames += float(batch.mask.sum())
        bar.set_postfix(loss=f"{total / frames:.3f}")
    return total / max(frames, 1.0)


def spec_for(domain: Domain, representation, config, train_pieces: Sequence[EncodedPiece] = ()) -> ModelSpec:
    """The model a run of the domain trains: sizes and head from its representation (a mixture head has
    the config's components), an output bias at the training pieces' marginal frequencies."""
    head, value_size = representation.head, representation.value_size
    return ModelSpec(domain.kind, head, representation.input_size,
                     heads.output_size(head, value_size, getattr(config, "mixture_components", 1)),
                     representation.metadata(), config.model_dump(), marginal_output_bias(head, value_size, train_pieces),
                     value_size)


def train_domain(domain: Domain, data: str | Path, out: str | Path, config, device: str | None = None,
                 progress: Callable[[dict], None] | None = None, show_progress: bool = True) -> TrainResult:
    """Train on any domain's data (a file or folder): its items read and split (recorded in out/data.json,
    the resolved config in out/config.yaml), the representation fitted to the training items, the
    epochs augmented as the config says. An unfinished run in `out` resumes."""
    pick_device(device)  # a device this machine lacks is refused before anything is written
    data = Path(data)
    if not data.exists():
        raise GenseqError("no such data file or folder", data)
    check_resumable(out)  # a run folder whose last.pt is unreadable is refused before anything is read or written
    split = domain.load_split(data, config)
    for item in split.dropped if show_progress else []:
        tqdm.write(f"dropped {item['file']}: {item['reason']}")
    if not split.train or not split.valid:
        raise GenseqError(f"need training and validation pieces, found {len(split.train)} and {len(split.valid)}", data)
    representation = domain.representation_for(config, split.train)
    source = domain.training_source(representation, split.train, config)
    valid = [representation.encode(item) for item in split.valid]
    spec = spec_for(domain, representation, config, source.plain)
    check_model_memory(config.model, spec.input_size, spec.output_size, config.train)  # before anything is written
    with run_lock(out):
        start_run(out, {"data": str(data), "split": split.how,
                        **{part: [item.name for item in getattr(split, part)] for part in ("train", "valid", "test")},
                        **domain.record(split, config), "dropped": split.dropped}, config_yaml(config))
        if show_progress:
            model = config.model
            tqdm.write(f"training a {getattr(config, 'representation', domain.kind)} model ({model.cell}, "
                       f"{model.num_layers}x{model.hidden_size}) into {out}")
        return train(spec, config.train, source, valid, out, device, progress, show_progress)
