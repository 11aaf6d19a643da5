"""Prefect flow: MIDI files, recordings (transcribed) or folders of either to a note-sequence dataset
(`genseq extract music`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import publish_outputs, publish_table
from flows.tasks import absolute, cached, extract_music_task


class ExtractMusicParams(BaseModel):
    paths: list[str] = Field(default_factory=list,
                             description="MIDI files, recordings (wav, mp3, flac, ogg, m4a) or folders; empty: the bundled examples (assets/examples), else "
                                         "tunes sampled from the bundled melody model into out/examples/tunes")
    out: str = Field("out/music-dataset.npz", description="dataset file to write")
    steps_per_quarter: int = Field(4, ge=1, le=24)
    programs: list[int] = Field(default_factory=list, description="keep only these General MIDI programs (empty: all)")
    include_drums: bool = False


@flow(name="extract-music", log_prints=True)
def extract_music_flow(params: ExtractMusicParams = ExtractMusicParams()) -> str:
    paths = params.paths
    if not paths:
        from flows.examples import example_midi_inputs

        paths = example_midi_inputs()
    report = cached(extract_music_task, paths=[absolute(p) for p in paths], out=absolute(params.out),
                    steps_per_quarter=params.steps_per_quarter, programs=params.programs,
                    include_drums=params.include_drums)
    publish_table(report["kept"] + report["dropped"], "files kept and dropped, with reasons")
    publish_outputs(f"Dataset: {len(report['kept'])} piece(s) kept, {len(report['dropped'])} dropped", [Path(params.out)])
    print("\n".join(report["lines"][-5:]))
    return params.out


if __name__ == "__main__":
    extract_music_flow()
