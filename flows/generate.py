"""Prefect flow: sample new music from a model (`genseq generate music`)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import progress_reporter, publish_outputs
from genseq.model.sample import SamplingOptions
from genseq.music.stages import GenerateOptions, default_checkpoint, generate_and_render


class GenerateMusicParams(BaseModel):
    checkpoint: Optional[str] = Field(None, description="checkpoint or run folder; empty for the bundled model")
    representation: Literal["melody", "pianoroll"] = Field("melody", description="bundled model to use when no checkpoint")
    out: str = Field("out/generated", description="folder for the new files")
    primer: Optional[str] = Field(None, description="a MIDI file to continue")
    include_primer: bool = False
    temperature: float = Field(1.0, ge=0)
    top_k: Optional[int] = Field(None, ge=1)
    top_p: Optional[float] = Field(None, gt=0, le=1)
    seed: int = 0
    bars: Optional[int] = Field(8, ge=1)
    seconds: Optional[float] = Field(None, gt=0)
    num_outputs: int = Field(2, ge=1, le=100)
    tempo: Optional[float] = Field(None, gt=0)
    wav: bool = True
    png: bool = True


@flow(name="generate-music", log_prints=True)
def generate_music_flow(params: GenerateMusicParams = GenerateMusicParams()) -> list[str]:
    checkpoint = params.checkpoint or default_checkpoint(params.representation)
    options = GenerateOptions(params.primer, params.include_primer, params.bars, params.seconds, params.num_outputs,
                              params.tempo, SamplingOptions(params.temperature, params.top_k, params.top_p, params.seed))
    paths = generate_and_render(checkpoint, params.out, options, params.wav, params.png,
                                progress=progress_reporter("sampling", 1))
    publish_outputs(f"{params.num_outputs} new piece(s) from {checkpoint}", paths)
    return [str(p) for p in paths]


if __name__ == "__main__":
    generate_music_flow()
