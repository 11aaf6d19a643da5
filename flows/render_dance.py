"""Prefect flow: render a motion clip to an H.264 skeleton video (`genseq render dance`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import publish_outputs


class RenderDanceParams(BaseModel):
    clip: str = Field("../shared/datasets/cmu-dance-bvh/salsa/01.bvh", description="a .npz clip or a BVH file")
    out: Optional[str] = Field("out/rendered/dance.mp4", description="H.264 MP4 (empty: beside the clip)")
    preview: Optional[str] = Field("out/rendered/dance.png", description="a .gif or .png preview (empty: none)")
    size: int = Field(512, ge=16)
    camera: Literal["follow", "fixed"] = "follow"
    side_by_side: Optional[str] = Field(None, description="the source video, shown beside the skeleton")
    audio: Optional[str] = Field(None, description="a sound file to mux in")


@flow(name="render-dance", log_prints=True)
def render_dance_flow(params: RenderDanceParams = RenderDanceParams()) -> list[str]:
    from genseq.motion.render import render_clip_file

    paths = render_clip_file(params.clip, params.out, params.preview, size=params.size, camera=params.camera,
                             side_by_side_video=params.side_by_side, audio=params.audio)
    publish_outputs(f"Rendered {Path(params.clip).name}", paths)
    return [str(p) for p in paths]


if __name__ == "__main__":
    render_dance_flow()
