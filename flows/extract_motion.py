"""Prefect flow: videos or BVH files to motion clips (`genseq extract motion`)."""

from __future__ import annotations


from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import progress_reporter, publish_outputs


class ExtractMotionParams(BaseModel):
    paths: list[str] = Field(default_factory=lambda: ["../shared/datasets/video/carphone.mp4"],
                             description="videos, BVH files or folders of them")
    out: str = Field("out/clips", description="a .npz file (one input) or a folder (one .npz per input)")
    fps: float = Field(30.0, gt=0)
    smoothing: float = Field(0.5, ge=0, le=1, description="One Euro jitter smoothing for video: 0 off, 1 strong")


@flow(name="extract-motion", log_prints=True)
def extract_motion_flow(params: ExtractMotionParams = ExtractMotionParams()) -> list[str]:
    from genseq.motion.stages import extract_motion

    state = {"report": None}

    def progress(done: int, total: int) -> None:
        if state["report"] is None:
            state["report"] = progress_reporter("extracting motion", total)
        state["report"](done)

    written = extract_motion(params.paths, params.out, params.fps, params.smoothing, progress)
    publish_outputs(f"{len(written)} motion clip(s)", written)
    return [str(p) for p in written]


if __name__ == "__main__":
    extract_motion_flow()
