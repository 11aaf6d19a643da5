"""Prefect flow: MIDI files or folders to a note-sequence dataset (`genseq extract music`)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from prefect import flow

from flows.progress import progress_reporter, publish_table
from genseq.core.paths import assets_dir
from genseq.music.midi import InstrumentSelection, find_midi_files
from genseq.music.stages import extract_music


class ExtractMusicParams(BaseModel):
    paths: list[str] = Field(default_factory=lambda: [str(assets_dir() / "examples")], description="MIDI files or folders")
    out: str = Field("out/music-dataset.npz", description="dataset file to write")
    steps_per_quarter: int = Field(4, ge=1, le=24)
    programs: list[int] = Field(default_factory=list, description="keep only these General MIDI programs (empty: all)")
    include_drums: bool = False


@flow(name="extract-music", log_prints=True)
def extract_music_flow(params: ExtractMusicParams = ExtractMusicParams()) -> str:
    files = find_midi_files(params.paths)
    report = extract_music(files, params.out, params.steps_per_quarter,
                           InstrumentSelection(programs=params.programs, include_drums=params.include_drums),
                           on_file=progress_reporter(f"reading {len(files)} MIDI files", len(files)))
    publish_table(report.kept + report.dropped, "files kept and dropped, with reasons")
    print("\n".join(report.lines()[-5:]))
    return params.out


if __name__ == "__main__":
    extract_music_flow()
