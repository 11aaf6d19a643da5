"""Prefect flow: train a music model (`genseq train music`)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import progress_reporter, publish_outputs, publish_table
from genseq.music.stages import resolve_music_config, train_music


class TrainMusicParams(BaseModel):
    data: Optional[str] = Field(None, description="MIDI folder (with or without train/valid/test) or .npz; empty: "
                                                  "example tunes sampled from the bundled melody model")
    out: str = Field("runs/music", description="run folder; an unfinished run there is resumed")
    representation: Literal["melody", "pianoroll"] = "melody"
    config: Optional[str] = Field(None, description="YAML config; empty for the tuned defaults")
    steps_per_quarter: Optional[int] = Field(None, ge=1, le=24)
    cell: Optional[Literal["lstm", "gru", "rnn"]] = None
    epochs: Optional[int] = Field(None, ge=1, description="empty: the config's")
    max_minutes: Optional[float] = Field(3.0, gt=0, description="stop after this much training time (empty: no limit)")
    seed: Optional[int] = None


@flow(name="train-music", log_prints=True)
def train_music_flow(params: TrainMusicParams = TrainMusicParams()) -> str:
    data = params.data
    if not data:
        from flows.examples import example_tunes

        data = str(example_tunes())
    overrides = params.model_dump(include={"steps_per_quarter", "cell", "epochs", "max_minutes", "seed"})
    config = resolve_music_config(params.config, params.representation, overrides)
    report = progress_reporter(f"training up to {config.train.epochs} epochs", config.train.epochs)
    result = train_music(data, params.out, config, progress=lambda record: report(record["epoch"]), show_progress=False)
    report(config.train.epochs)  # stopped early or on time: the bar ends at 100%
    publish_table(result.history, "training metrics per epoch", key="train-music-metrics")
    publish_outputs(f"Trained {config.representation} model: {result.stopped_because}, best validation loss "
                    f"{result.best_valid_loss:.4f}", [result.best_checkpoint],
                    note=f"{result.epochs_run} epoch(s), {result.train_seconds:.0f} s, {result.params} parameters, "
                         f"data: {data}")
    return str(result.best_checkpoint)


if __name__ == "__main__":
    train_music_flow()
