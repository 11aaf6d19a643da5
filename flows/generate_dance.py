"""Prefect flow: new dance motion as a skeleton video (`genseq generate dance`)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.progress import publish_outputs
from flows.tasks import cached, generate_dance_task, task_options
from genseq.core.options import GenerateDanceOptions



@flow(name="generate-dance", log_prints=True)
def generate_dance_flow(params: GenerateDanceOptions = GenerateDanceOptions()) -> list[str]:
    paths = cached(generate_dance_task, task_options(params, "checkpoint", "primer", "music", "out", "keypoints_out"))
    publish_outputs(f"{params.num_outputs} dance(s) from {params.checkpoint or 'the bundled dance model'}",
                    [Path(p) for p in paths], key="generate-dance",
                    note=f"{params.seconds:g} s, temperature {params.temperature}, seed {params.seed}")
    return paths


if __name__ == "__main__":
    generate_dance_flow()
