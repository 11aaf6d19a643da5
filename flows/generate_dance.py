"""Prefect flow: new dance motion as a skeleton video (`genseq generate dance`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import publish_outputs
from flows.tasks import absolute, cached, generate_dance_task


class GenerateDanceParams(BaseModel):
    checkpoint: Optional[str] = Field(None, description="checkpoint or run folder; empty for the bundled model")
    out: str = Field("out/dance.mp4", description="skeleton video (.mp4)")
    primer: Optional[str] = Field(None, description="a video, BVH or .npz clip to continue")
    seconds: float = Field(20.0, gt=0)
    seed: int = 0
    temperature: float = Field(1.0, ge=0)
    num_outputs: int = Field(1, ge=1, le=100)
    keypoints_out: Optional[str] = Field(None, description="also save the clip(s) as .npz")
    size: int = Field(512, ge=16)
    camera: Literal["follow", "fixed"] = "follow"
    preview: bool = Field(True, description="also a PNG contact sheet beside each video (shown in the run's artifacts)")


@flow(name="generate-dance", log_prints=True)
def generate_dance_flow(params: GenerateDanceParams = GenerateDanceParams()) -> list[str]:
    from genseq.motion.stages import default_dance_checkpoint

    checkpoint = params.checkpoint or default_dance_checkpoint()
    paths = cached(generate_dance_task, checkpoint=absolute(checkpoint), out=absolute(params.out),
                   primer=absolute(params.primer), seconds=params.seconds, seed=params.seed,
                   temperature=params.temperature, num_outputs=params.num_outputs,
                   keypoints_out=absolute(params.keypoints_out), size=params.size, camera=params.camera,
                   preview=params.preview)
    publish_outputs(f"{params.num_outputs} dance(s) from {checkpoint}", [Path(p) for p in paths], key="generate-dance",
                    note=f"{params.seconds:g} s, temperature {params.temperature}, seed {params.seed}")
    return paths


if __name__ == "__main__":
    generate_dance_flow()
