"""Prefect flow: a music video in one run: a dance on a song's beats, in one MP4 with the song as its
sound (the song a file, or empty: a new melody from the bundled model), as `genseq demo` ends."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.progress import publish_outputs
from flows.tasks import cached, stage_task, task_options
from genseq.core.options import MusicVideoOptions


@stage_task("song", "background", name="music-video-files")
def music_video_task(options: dict) -> list[str]:
    from flows.progress import progress_with_total
    from genseq.compose.dance_to_music import make_music_video

    validated = MusicVideoOptions.model_validate(options)
    paths = make_music_video(validated, progress_with_total("sampling the dance (frames)"))
    return [str(p) for p in paths]


@flow(name="music-video", log_prints=True)
def music_video_flow(params: MusicVideoOptions = MusicVideoOptions()) -> list[str]:
    paths = cached(music_video_task, task_options(params, "song", "out"))
    song = Path(params.song).name if params.song else "a new melody from the bundled model"
    publish_outputs(f"Music video: a dance to {song}", [Path(p) for p in paths], key="music-video",
                    note=f"style {params.style}, seed {params.seed}")
    return paths


if __name__ == "__main__":
    music_video_flow()
