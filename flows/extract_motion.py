"""Prefect flow: videos or BVH files to motion clips (`genseq extract motion`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import publish_outputs
from flows.tasks import absolute, cached, extract_motion_task


class ExtractMotionParams(BaseModel):
    paths: list[str] = Field(default_factory=list,
                             description="videos, BVH files or folders of them; empty: synthetic example BVH dances "
                                         "(out/examples/dance)")
    out: str = Field("out/clips", description="a .npz file (one input) or a folder (one .npz per input)")
    fps: float = Field(30.0, gt=0)
    smoothing: float = Field(0.5, ge=0, le=1, description="One Euro jitter smoothing for video: 0 off, 1 strong")


@flow(name="extract-motion", log_prints=True)
def extract_motion_flow(params: ExtractMotionParams = ExtractMotionParams()) -> list[str]:
    paths = params.paths
    if not paths:
        from flows.examples import example_dances

        paths = [str(example_dances())]
    written = cached(extract_motion_task, paths=[absolute(p) for p in paths], out=absolute(params.out),
                     fps=params.fps, smoothing=params.smoothing)
    publish_outputs(f"{len(written)} motion clip(s)", [Path(p) for p in written])
    return written


if __name__ == "__main__":
    extract_motion_flow()
