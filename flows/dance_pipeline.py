"""Prefect flow: extract -> train -> generate (dance), chaining the stage flows by file paths."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, create_model
from prefect import flow

from flows.extract_motion import ExtractMotionParams, extract_motion_flow
from flows.generate_dance import generate_dance_flow
from flows.params import picked
from flows.train import TrainDanceParams, train_flow
from genseq.core.options import GenerateDanceOptions, TrainDanceOptions

DancePipelineParams = create_model(
    "DancePipelineParams",
    data=(list[str], Field(default_factory=list, description="videos, BVH files or folders to learn from; empty: "
                                                            "synthetic example BVH dances (a self-contained demo)")),
    work_dir=(str, Field("out/dance-pipeline", description="where the clips, run folder and outputs go")),
    **picked(TrainDanceOptions, "config", "epochs", "max_minutes", epochs=2, max_minutes=5.0),
    **picked(GenerateDanceOptions, "seconds", "seed", "temperature", "num_outputs", seconds=10.0),
)


@flow(name="dance-pipeline", log_prints=True)
def dance_pipeline(params: DancePipelineParams = DancePipelineParams()) -> list[str]:
    work = Path(params.work_dir)
    extract_motion_flow(ExtractMotionParams(paths=params.data, out=str(work / "clips")))
    checkpoint = train_flow("dance", dance=TrainDanceParams(data=str(work / "clips"), out=str(work / "run"), config=params.config,
                                                            epochs=params.epochs, max_minutes=params.max_minutes, seed=params.seed))
    return generate_dance_flow(GenerateDanceOptions(
        checkpoint=checkpoint, out=str(work / "dance.mp4"), seconds=params.seconds, seed=params.seed,
        temperature=params.temperature, num_outputs=params.num_outputs, keypoints_out=str(work / "dance.npz")))


if __name__ == "__main__":
    dance_pipeline()
