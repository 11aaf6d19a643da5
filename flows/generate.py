"""Prefect flow: sample new music from a model (`genseq generate music`)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import publish_outputs
from flows.tasks import absolute, cached, generate_music_task
from genseq.music.stages import default_checkpoint


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
    program: Optional[int] = Field(None, ge=0, le=127, description="General MIDI program of the output")
    wav: bool = True
    png: bool = True
    allow_sine: bool = Field(False, description="use the sine synthesiser when fluidsynth is missing")


@flow(name="generate-music", log_prints=True)
def generate_music_flow(params: GenerateMusicParams = GenerateMusicParams()) -> list[str]:
    checkpoint = params.checkpoint or default_checkpoint(params.representation)
    paths = cached(generate_music_task, checkpoint=absolute(checkpoint), out_dir=absolute(params.out),
                   primer=absolute(params.primer), include_primer=params.include_primer, bars=params.bars,
                   seconds=params.seconds, num_outputs=params.num_outputs, tempo=params.tempo,
                   temperature=params.temperature, top_k=params.top_k, top_p=params.top_p, seed=params.seed,
                   program=params.program, wav=params.wav, png=params.png, allow_sine=params.allow_sine)
    publish_outputs(f"{params.num_outputs} new piece(s) from {checkpoint}", paths, key="generate-music",
                    note=f"temperature {params.temperature}, seed {params.seed}, "
                         f"{f'{params.seconds:g} s' if params.seconds else f'{params.bars or 8} bars'}")
    return paths


if __name__ == "__main__":
    generate_music_flow()
