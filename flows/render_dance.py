"""Prefect flow: render a motion clip to an H.264 skeleton video (`genseq render dance`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import publish_outputs
from flows.tasks import absolute, cached, render_dance_task


class RenderDanceParams(BaseModel):
    clip: Optional[str] = Field(None, description="a .npz clip or a BVH file; empty: a synthetic example BVH dance")
    out: Optional[str] = Field("out/rendered/dance.mp4", description="H.264 MP4 (empty: beside the clip)")
    preview: Optional[str] = Field("out/rendered/dance.png", description="a .gif or .png preview (empty: none)")
    size: int = Field(512, ge=16)
    camera: Literal["follow", "fixed"] = "follow"
    side_by_side: Optional[str] = Field(None, description="the source video, shown beside the skeleton")
    audio: Optional[str] = Field(None, description="a sound file to mux in")


@flow(name="render-dance", log_prints=True)
def render_dance_flow(params: RenderDanceParams = RenderDanceParams()) -> list[str]:
    clip = params.clip
    if not clip:
        from flows.examples import EXAMPLES_DIR, write_example_bvh

        clip = str(write_example_bvh(EXAMPLES_DIR / "dance" / "synthetic_00.bvh"))
    paths = cached(render_dance_task, clip=absolute(clip), out=absolute(params.out), preview=absolute(params.preview),
                   size=params.size, camera=params.camera, side_by_side=absolute(params.side_by_side),
                   audio=absolute(params.audio))
    publish_outputs(f"Rendered {Path(clip).name}", [Path(p) for p in paths], key="render-dance")
    return paths


if __name__ == "__main__":
    render_dance_flow()
