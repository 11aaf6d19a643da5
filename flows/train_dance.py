"""Prefect flow: train a dance model (`genseq train dance`)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import progress_reporter, publish_outputs, publish_table


class TrainDanceParams(BaseModel):
    data: Optional[str] = Field(None, description="folder of videos, BVH files or .npz clips; empty: synthetic example "
                                                  "BVH dances (out/examples/dance)")
    out: str = Field("runs/dance", description="run folder; an unfinished run there is resumed")
    config: Optional[str] = Field(None, description="YAML config; empty for configs/dance.yaml")
    cell: Optional[Literal["lstm", "gru", "rnn"]] = None
    epochs: Optional[int] = Field(None, ge=1, description="empty: the config's")
    max_minutes: Optional[float] = Field(3.0, gt=0, description="stop after this much training time (empty: no limit)")
    seed: Optional[int] = None
    teacher_forcing: bool = Field(False, description="plain teacher forcing (the freezing baseline)")


@flow(name="train-dance", log_prints=True)
def train_dance_flow(params: TrainDanceParams = TrainDanceParams()) -> str:
    from genseq.core.config import resolve_dance_config
    from genseq.motion.stages import train_dance

    data = params.data
    if not data:
        from flows.examples import example_dances

        data = str(example_dances())
    overrides = params.model_dump(include={"cell", "epochs", "max_minutes", "seed"})
    if params.teacher_forcing:
        overrides["condition_self_steps"] = 0
    config = resolve_dance_config(params.config, overrides)
    report = progress_reporter(f"training up to {config.train.epochs} epochs", config.train.epochs)
    result = train_dance(data, params.out, config, progress=lambda record: report(record["epoch"]), show_progress=False)
    report(config.train.epochs)
    publish_table(result.history, "training metrics per epoch", key="train-dance-metrics")
    publish_outputs(f"Trained dance model: {result.stopped_because}, best validation loss {result.best_valid_loss:.4f}",
                    [result.best_checkpoint],
                    note=f"{result.epochs_run} epoch(s), {result.train_seconds:.0f} s, {result.params} parameters, "
                         f"data: {data}")
    return str(result.best_checkpoint)


if __name__ == "__main__":
    train_dance_flow()
