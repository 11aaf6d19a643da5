"""Prefect flow: videos or BVH files to motion clips (`genseq extract motion`)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.params import flow_params, to_options
from flows.progress import publish_outputs
from flows.tasks import cached, extract_motion_task, task_options
from genseq.core.options import ExtractMotionOptions

ExtractMotionParams = flow_params(ExtractMotionOptions, paths="videos, BVH files or folders of them; empty: synthetic "
                                  "example BVH dances (out/examples/dance)")


@flow(name="extract-motion", log_prints=True)
def extract_motion_flow(params: ExtractMotionParams = ExtractMotionParams()) -> list[str]:
    paths = params.paths
    if not paths:
        from flows.examples import example_dances

        paths = [str(example_dances())]
    written = cached(extract_motion_task, task_options(to_options(ExtractMotionOptions, params, paths=paths), "paths", "out"))
    publish_outputs(f"{len(written)} motion clip(s)", [Path(p) for p in written])
    return written


if __name__ == "__main__":
    extract_motion_flow()
