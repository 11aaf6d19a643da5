"""Register a deployment of every genseq flow and keep serving them (what `genseq serve` runs).

    PREFECT_API_URL=http://127.0.0.1:4200/api python -m flows.serve [--files-port 0] [--no-files] [--limit N]

Each flow gets one deployment named like the flow (so `run_deployment("music-pipeline/music-pipeline")`;
the UI's list then reads by what each one does), tagged genseq plus music, dance or batch. Flow runs execute in subprocesses of this process, in
its working folder: relative output paths in the forms land under it. A read-only media file
server (genseq.service.files.MediaFileServer) serves the rendered files under this folder so
the run summaries can link to them and play sounds and videos in the UI.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from prefect import serve
from prefect.deployments.runner import EntrypointType

import genseq
from flows.batch_render import batch_render
from flows.dance_pipeline import dance_pipeline
from flows.extract import extract_music_flow
from flows.extract_motion import extract_motion_flow
from flows.generate import generate_music_flow
from flows.generate_dance import generate_dance_flow
from flows.music_pipeline import music_pipeline
from flows.music_video import music_video_flow
from flows.render import render_music_flow
from flows.render_dance import render_dance_flow
from flows.eval_samples import eval_samples_flow
from flows.train import train_flow

FLOWS = {
    "music": [music_pipeline, extract_music_flow, generate_music_flow, render_music_flow, eval_samples_flow],
    "dance": [dance_pipeline, extract_motion_flow, generate_dance_flow, render_dance_flow, music_video_flow],
    "models": [train_flow],
    "batch": [batch_render],
}
DESCRIPTIONS = {
    "music-pipeline": "Extract a dataset from MIDI, train a model, and write new pieces (MIDI, WAV, piano roll).",
    "extract-music": "MIDI files or folders to a note-sequence dataset, with a report of what was kept and why.",
    "train": "Train a music (melody, piano roll) or dance model, the domain a parameter; metrics per epoch in the run's artifacts.",
    "eval-samples": "Generated pieces against real ones, per statistic (notes per bar, silence, entropy, intervals ...).",
    "generate-music": "New melodies or piano rolls from a model (the bundled one by default), optionally continuing a primer.",
    "render-music": "A MIDI file to WAV (fluidsynth) and a piano-roll PNG.",
    "dance-pipeline": "Extract motion clips, train a dance model, and generate new dances as skeleton videos.",
    "extract-motion": "Videos (mediapipe pose) or BVH motion capture to motion clips.",
    "generate-dance": "New dance motion from a model (the bundled one by default) as browser-playable skeleton videos.",
    "render-dance": "A motion clip (.npz or BVH) to an H.264 skeleton video and a preview picture.",
    "music-video": "A dance on a song's beats in one MP4 with the song as its sound (a song file, or empty: a new melody).",
    "batch-render": "Render many clips from a YAML/CSV manifest in parallel (process, thread or Dask task runner).",
}


def deployments() -> list:
    """A RunnerDeployment per genseq flow (module entrypoints: they run from any working folder)."""
    made = []
    for domain, flows in FLOWS.items():
        for flow in flows:
            made.append(flow.to_deployment(name=flow.name, tags=["genseq", domain], version=genseq.__version__,
                                           description=DESCRIPTIONS.get(flow.name, flow.description),
                                           entrypoint_type=EntrypointType.MODULE_PATH))
    return made


def deployment_names() -> list[str]:
    return [f"{flow.name}/{flow.name}" for flows in FLOWS.values() for flow in flows]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--files-port", type=int, default=0, help="media file server port (0: any free port)")
    parser.add_argument("--no-files", action="store_true", help="no media file server")
    parser.add_argument("--limit", type=int, default=None, help="at most this many flow runs at once")
    args = parser.parse_args(argv)
    if not os.environ.get("PREFECT_API_URL"):
        sys.exit("flows.serve: set PREFECT_API_URL to the server's API (genseq serve does it for you)")
    files = None
    if not args.no_files:
        from genseq.service.files import MediaFileServer

        files = MediaFileServer(Path.cwd(), args.files_port).start()
        os.environ["GENSEQ_FILES_URL"] = files.url
        os.environ["GENSEQ_FILES_ROOT"] = str(Path.cwd())
        print(f"media files under {Path.cwd()} at {files.url}", flush=True)
    try:
        serve(*deployments(), limit=args.limit, print_starting_message=True)
    finally:
        if files is not None:
            files.stop()


if __name__ == "__main__":
    main()
