"""Prefect flow: train a music model (`genseq train music`)."""

from __future__ import annotations

from prefect import flow

from flows.params import flow_params, to_options
from flows.progress import progress_reporter, publish_outputs, publish_table
from genseq.core.options import TrainMusicOptions
from genseq.music.stages import resolve_music_config, train_music

TrainMusicParams = flow_params(TrainMusicOptions, data="MIDI folder (with or without train/valid/test) or .npz; empty: "
                               "example tunes sampled from the bundled melody model",
                               out="run folder; an unfinished run there is resumed; empty: runs/music")


@flow(name="train-music", log_prints=True)
def train_music_flow(params: TrainMusicParams = TrainMusicParams()) -> str:
    data = params.data
    if not data:
        from flows.examples import example_tunes

        data = str(example_tunes())
    options = to_options(TrainMusicOptions, params, data=data, out=params.out or "runs/music")
    config = resolve_music_config(options)
    report = progress_reporter(f"training up to {config.train.epochs} epochs", config.train.epochs)
    result = train_music(options.data, options.out, config, options.device, progress=lambda record: report(record["epoch"]),
                         show_progress=False)
    report(config.train.epochs)  # stopped early or on time: the bar ends at 100%
    publish_table(result.history, "training metrics per epoch", key="train-music-metrics")
    publish_outputs(f"Trained {config.representation} model: {result.stopped_because}, best validation loss "
                    f"{result.best_valid_loss:.4f}", [result.best_checkpoint],
                    note=f"{result.epochs_run} epoch(s), {result.train_seconds:.0f} s, {result.params} parameters, "
                         f"data: {data}")
    return str(result.best_checkpoint)


if __name__ == "__main__":
    train_music_flow()
