"""Prefect flow: render a motion clip to an H.264 skeleton video (`genseq render dance`)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.params import flow_params, to_options
from flows.progress import publish_outputs
from flows.tasks import cached, render_dance_task, task_options
from genseq.core.options import RenderDanceOptions

RenderDanceParams = flow_params(RenderDanceOptions, clip="a .npz clip or a BVH file; empty: a synthetic example BVH dance")


@flow(name="render-dance", log_prints=True)
def render_dance_flow(params: RenderDanceParams = RenderDanceParams()) -> list[str]:
    if params.clip:
        options = to_options(RenderDanceOptions, params)
    else:
        from flows.examples import EXAMPLES_DIR, write_example_bvh

        clip = write_example_bvh(EXAMPLES_DIR / "dance" / "synthetic_00.bvh")
        options = to_options(RenderDanceOptions, params, clip=str(clip), preview=params.preview or str(clip.with_suffix(".png")))
    paths = cached(render_dance_task, task_options(options, "clip", "out", "preview", "side_by_side", "audio"))
    publish_outputs(f"Rendered {Path(options.clip).name}", [Path(p) for p in paths], key="render-dance")
    return paths


if __name__ == "__main__":
    render_dance_flow()
