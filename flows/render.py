"""Prefect flow: render a MIDI file to WAV and a piano-roll PNG (`genseq render music`)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.params import flow_params, to_options
from flows.progress import publish_outputs
from flows.tasks import cached, render_music_task, task_options
from genseq.core.options import RenderMusicOptions

RenderMusicParams = flow_params(RenderMusicOptions, midi="MIDI file to render; empty: assets/examples/melody.mid, "
                                                         "else a tune sampled from the bundled melody model")


@flow(name="render-music", log_prints=True)
def render_music_flow(params: RenderMusicParams = RenderMusicParams()) -> list[str]:
    if params.midi:
        options = to_options(RenderMusicOptions, params)
    else:
        from flows.examples import EXAMPLES_DIR, example_tune

        rendered = EXAMPLES_DIR / "rendered"
        options = to_options(RenderMusicOptions, params, midi=str(example_tune()),
                             wav=params.wav or str(rendered / "tune.wav"), png=params.png or str(rendered / "tune.png"))
    paths = cached(render_music_task, task_options(options, "midi", "wav", "png"))
    publish_outputs(f"Rendered {Path(options.midi).name}", paths, key="render-music")
    return paths


if __name__ == "__main__":
    render_music_flow()
