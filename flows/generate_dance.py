"""Prefect flow: new dance motion as a skeleton video (`genseq generate dance`)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import publish_outputs


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


@flow(name="generate-dance", log_prints=True)
def generate_dance_flow(params: GenerateDanceParams = GenerateDanceParams()) -> list[str]:
    from genseq.motion.stages import DanceGenerateOptions, default_dance_checkpoint, generate_dance, write_dance_outputs

    checkpoint = params.checkpoint or default_dance_checkpoint()
    options = DanceGenerateOptions(params.primer, params.seconds, params.seed, params.temperature, params.num_outputs)
    clips = generate_dance(checkpoint, options)
    paths = write_dance_outputs(clips, params.out, params.keypoints_out, {"size": params.size, "camera": params.camera})
    publish_outputs(f"{params.num_outputs} dance(s) from {checkpoint}", paths)
    return [str(p) for p in paths]


if __name__ == "__main__":
    generate_dance_flow()
