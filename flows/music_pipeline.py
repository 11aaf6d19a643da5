"""Prefect flow: extract -> train -> generate -> render, chaining the stage flows by file paths.

Re-running on unchanged inputs skips what is done: extraction and generation are cached on
their inputs' contents, and training resumes its run folder (a finished run ends at once).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, create_model
from prefect import flow

from flows.extract import ExtractMusicParams, extract_music_flow
from flows.generate import generate_music_flow
from flows.params import picked
from flows.train import TrainMusicParams, train_flow
from genseq.core.options import GenerateMusicOptions, TrainMusicOptions

MusicPipelineParams = create_model(
    "MusicPipelineParams",
    data=(list[str], Field(default_factory=list, description="MIDI files or folders to learn from; empty: example tunes "
                                                            "sampled from the bundled melody model (a self-contained demo)")),
    work_dir=(str, Field("out/music-pipeline", description="where the dataset, run folder and outputs go")),
    **picked(TrainMusicOptions, "representation", "config", "epochs", "max_minutes", epochs=3, max_minutes=5.0),
    steps_per_quarter=(int, Field(4, ge=1, le=24, description="grid steps per quarter note of the dataset and model")),
    **picked(GenerateMusicOptions, "temperature", "seed", "bars", "num_outputs", "allow_sine", bars=8, num_outputs=2),
)


@flow(name="music-pipeline", log_prints=True)
def music_pipeline(params: MusicPipelineParams = MusicPipelineParams()) -> list[str]:
    work = Path(params.work_dir)
    dataset = extract_music_flow(ExtractMusicParams(paths=params.data, out=str(work / "dataset.npz"),
                                                    steps_per_quarter=params.steps_per_quarter))
    checkpoint = train_flow("music", music=TrainMusicParams(
        data=dataset, out=str(work / "run"), representation=params.representation, config=params.config,
        steps_per_quarter=params.steps_per_quarter, epochs=params.epochs, max_minutes=params.max_minutes, seed=params.seed))
    return generate_music_flow(GenerateMusicOptions(
        checkpoint=checkpoint, out=str(work / "generated"), temperature=params.temperature, seed=params.seed,
        bars=params.bars, num_outputs=params.num_outputs, allow_sine=params.allow_sine))


if __name__ == "__main__":
    music_pipeline()
