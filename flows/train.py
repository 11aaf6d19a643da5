"""Prefect flow: train a model (`genseq train music` or `genseq train dance`); the domain is a parameter,
each domain's form is its options model."""

from __future__ import annotations

from typing import Literal

from prefect import flow

from flows.params import flow_params, to_options
from flows.progress import progress_reporter, publish_outputs, publish_table
from genseq.core.options import TrainDanceOptions, TrainMusicOptions
from genseq.model.curves import CURVES_PNG

TrainMusicParams = flow_params(TrainMusicOptions, data="MIDI folder (with or without train/valid/test) or .npz; empty: "
                               "example tunes sampled from the bundled melody model",
                               out="run folder; an unfinished run there is resumed; empty: runs/music")
TrainDanceParams = flow_params(TrainDanceOptions, data="folder of videos, BVH files or .npz clips; empty: synthetic "
                               "example BVH dances (out/examples/dance)",
                               out="run folder; an unfinished run there is resumed; empty: runs/dance")


def example_data(domain: str) -> str:
    from flows.examples import example_dances, example_tunes

    return str(example_tunes() if domain == "music" else example_dances())


@flow(name="train", log_prints=True)
def train_flow(domain: Literal["music", "dance"] = "music", music: TrainMusicParams = TrainMusicParams(),
               dance: TrainDanceParams = TrainDanceParams()) -> str:
    """Train on the chosen domain with its form (the other form is not used)."""
    from genseq.core.domain import resolve_run_config
    from genseq.model.train import train_domain
    from genseq.motion.domain import DANCE
    from genseq.music.domain import MUSIC

    params, options_model, chosen = ((music, TrainMusicOptions, MUSIC) if domain == "music"
                                     else (dance, TrainDanceOptions, DANCE))
    data = params.data or example_data(domain)
    options = to_options(options_model, params, data=data, out=params.out or f"runs/{domain}")
    config = resolve_run_config(chosen, options.config, options.config_sets())
    report = progress_reporter(f"training up to {config.train.epochs} epochs", config.train.epochs)
    result = train_domain(chosen, options.data, options.out, config, options.device,
                          progress=lambda record: report(record["epoch"]), show_progress=False)
    report(config.train.epochs)  # stopped early or on time: the bar ends at 100%
    publish_table(result.history, "training metrics per epoch", key=f"train-{domain}-metrics")
    name = getattr(config, "representation", domain)
    publish_outputs(f"Trained {name} model: {result.stopped_because}, best validation loss "
                    f"{result.best_valid_loss:.4f}", [result.best_checkpoint, result.run_dir / CURVES_PNG],
                    note=f"{result.epochs_run} epoch(s), {result.train_seconds:.0f} s, {result.params} parameters, "
                         f"data: {data}")
    return str(result.best_checkpoint)


if __name__ == "__main__":
    train_flow()
