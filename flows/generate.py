"""Prefect flow: sample new music from a model (`genseq generate music`)."""

from __future__ import annotations

from prefect import flow

from flows.progress import publish_outputs
from flows.tasks import cached, generate_music_task, task_options
from genseq.core.options import DEFAULT_BARS, GenerateMusicOptions


@flow(name="generate-music", log_prints=True)
def generate_music_flow(params: GenerateMusicOptions = GenerateMusicOptions()) -> list[str]:
    paths = cached(generate_music_task, task_options(params, "checkpoint", "primer", "out"))
    length = f"{params.seconds:g} s" if params.seconds else f"{params.bars or DEFAULT_BARS} bars"
    publish_outputs(f"{params.num_outputs} new piece(s) from {params.checkpoint or f'the bundled {params.representation} model'}",
                    paths, key="generate-music", note=f"temperature {params.temperature}, seed {params.seed}, {length}")
    return paths


if __name__ == "__main__":
    generate_music_flow()
