"""Prefect flow: render a MIDI file to WAV and a piano-roll PNG (`genseq render music`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import publish_outputs
from flows.tasks import absolute, cached, render_music_task


class RenderMusicParams(BaseModel):
    midi: Optional[str] = Field(None, description="MIDI file to render; empty: assets/examples/melody.mid, else a tune "
                                                  "sampled from the bundled melody model")
    wav: Optional[str] = Field(None, description="WAV path (default: in out_dir, else beside the MIDI)")
    png: Optional[str] = Field(None, description="piano-roll PNG path (default: in out_dir, else beside the MIDI)")
    out_dir: Optional[str] = Field("out/rendered", description="folder for the default WAV/PNG paths")
    allow_sine: bool = Field(False, description="use the sine synthesiser when fluidsynth is missing")


def default_beside(midi: Path, out_dir: Optional[str], suffix: str) -> Path:
    return (Path(out_dir) if out_dir else midi.parent) / midi.with_suffix(suffix).name


@flow(name="render-music", log_prints=True)
def render_music_flow(params: RenderMusicParams = RenderMusicParams()) -> list[str]:
    if params.midi:
        midi = Path(params.midi)
    else:
        from flows.examples import example_tune

        midi = example_tune()
    paths = cached(render_music_task, midi=absolute(midi),
                   wav=absolute(params.wav or default_beside(midi, params.out_dir, ".wav")),
                   png=absolute(params.png or default_beside(midi, params.out_dir, ".png")), allow_sine=params.allow_sine)
    publish_outputs(f"Rendered {midi.name}", paths, key="render-music")
    return paths


if __name__ == "__main__":
    render_music_flow()
