"""Prefect flow: render a MIDI file to WAV and a piano-roll PNG (`genseq render music`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import publish_outputs
from genseq.core.paths import assets_dir
from genseq.music.render import render_music


class RenderMusicParams(BaseModel):
    midi: str = Field(str(assets_dir() / "examples" / "melody.mid"), description="MIDI file to render")
    wav: Optional[str] = Field(None, description="WAV path (default: beside the MIDI)")
    png: Optional[str] = Field(None, description="piano-roll PNG path (default: beside the MIDI)")
    out_dir: Optional[str] = Field("out/rendered", description="folder for the default WAV/PNG paths")
    allow_sine: bool = False


def default_beside(midi: Path, out_dir: Optional[str], suffix: str) -> Path:
    return (Path(out_dir) if out_dir else midi.parent) / midi.with_suffix(suffix).name


@flow(name="render-music", log_prints=True)
def render_music_flow(params: RenderMusicParams = RenderMusicParams()) -> list[str]:
    midi = Path(params.midi)
    paths = render_music(midi, params.wav or default_beside(midi, params.out_dir, ".wav"),
                         params.png or default_beside(midi, params.out_dir, ".png"), params.allow_sine)
    publish_outputs(f"Rendered {midi.name}", paths)
    return [str(p) for p in paths]


if __name__ == "__main__":
    render_music_flow()
