"""Prefect flow: train a dance model (`genseq train dance`)."""

from __future__ import annotations

from prefect import flow

from flows.params import flow_params, to_options
from flows.progress import progress_reporter, publish_outputs, publish_table
from genseq.core.options import TrainDanceOptions

TrainDanceParams = flow_params(TrainDanceOptions, data="folder of videos, BVH files or .npz clips; empty: synthetic "
                               "example BVH dances (out/examples/dance)",
                               out="run folder; an unfinished run there is resumed; empty: runs/dance")


@flow(name="train-dance", log_prints=True)
def train_dance_flow(params: TrainDanceParams = TrainDanceParams()) -> str:
    from genseq.motion.data import resolve_dance_config, train_dance

    data = params.data
    if not data:
        from flows.examples import example_dances

        data = str(example_dances())
    options = to_options(TrainDanceOptions, params, data=data, out=params.out or "runs/dance")
    config = resolve_dance_config(options)
    report = progress_reporter(f"training up to {config.train.epochs} epochs", config.train.epochs)
    result = train_dance(options.data, options.out, config, options.device, progress=lambda record: report(record["epoch"]),
                         show_progress=False)
    report(config.train.epochs)
    publish_table(result.history, "training metrics per epoch", key="train-dance-metrics")
    publish_outputs(f"Trained dance model: {result.stopped_because}, best validation loss {result.best_valid_loss:.4f}",
                    [result.best_checkpoint],
                    note=f"{result.epochs_run} epoch(s), {result.train_seconds:.0f} s, {result.params} parameters, "
                         f"data: {data}")
    return str(result.best_checkpoint)


if __name__ == "__main__":
    train_dance_flow()
