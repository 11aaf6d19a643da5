"""Prefect flow: extract -> train -> generate -> render, chaining the stage flows by file paths.

Re-running on unchanged inputs skips what is done: extraction and generation are cached on
their inputs' contents, and training resumes its run folder (a finished run ends at once).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, Field
from prefect import flow

from flows.extract import ExtractMusicParams, extract_music_flow
from flows.generate import GenerateMusicParams, generate_music_flow
from flows.train import TrainMusicParams, train_music_flow


class MusicPipelineParams(BaseModel):
    data: list[str] = Field(default_factory=list,
                            description="MIDI files or folders to learn from; empty: example tunes sampled from the "
                                        "bundled melody model (a self-contained demo)")
    work_dir: str = Field("out/music-pipeline", description="where the dataset, run folder and outputs go")
    representation: Literal["melody", "pianoroll"] = "melody"
    steps_per_quarter: int = Field(4, ge=1, le=24)
    config: Optional[str] = Field(None, description="YAML config; empty for the tuned defaults")
    epochs: Optional[int] = Field(3, ge=1)
    max_minutes: Optional[float] = Field(5.0, gt=0)
    temperature: float = Field(1.0, ge=0)
    seed: int = 0
    bars: int = Field(8, ge=1)
    num_outputs: int = Field(2, ge=1, le=100)
    allow_sine: bool = Field(False, description="use the sine synthesiser when fluidsynth is missing")


@flow(name="music-pipeline", log_prints=True)
def music_pipeline(params: MusicPipelineParams = MusicPipelineParams()) -> list[str]:
    work = Path(params.work_dir)
    dataset = extract_music_flow(ExtractMusicParams(paths=params.data, out=str(work / "dataset.npz"),
                                                    steps_per_quarter=params.steps_per_quarter))
    checkpoint = train_music_flow(TrainMusicParams(
        data=dataset, out=str(work / "run"), representation=params.representation, config=params.config,
        steps_per_quarter=params.steps_per_quarter, epochs=params.epochs, max_minutes=params.max_minutes, seed=params.seed))
    return generate_music_flow(GenerateMusicParams(
        checkpoint=checkpoint, out=str(work / "generated"), temperature=params.temperature, seed=params.seed,
        bars=params.bars, num_outputs=params.num_outputs, wav=True, png=True, allow_sine=params.allow_sine))


if __name__ == "__main__":
    music_pipeline()
