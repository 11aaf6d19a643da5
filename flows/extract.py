"""Prefect flow: MIDI files, recordings (transcribed) or folders of either to a note-sequence dataset
(`genseq extract music`)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.params import flow_params, to_options
from flows.progress import publish_outputs, publish_table
from flows.tasks import cached, extract_music_task, task_options
from genseq.core.options import ExtractMusicOptions

ExtractMusicParams = flow_params(ExtractMusicOptions, paths="MIDI files, recordings (wav, mp3, flac, ogg, m4a) or "
                                 "folders; empty: the bundled examples (assets/examples), else tunes sampled from the "
                                 "bundled melody model into out/examples/tunes",
                                 out="dataset file to write; empty: out/music-dataset.npz")


@flow(name="extract-music", log_prints=True)
def extract_music_flow(params: ExtractMusicParams = ExtractMusicParams()) -> str:
    from flows.examples import example_midi_inputs

    options = to_options(ExtractMusicOptions, params, paths=params.paths or example_midi_inputs(),
                         out=params.out or "out/music-dataset.npz")
    report = cached(extract_music_task, task_options(options, "paths", "out"))
    publish_table(report["kept"] + report["dropped"], "files kept and dropped, with reasons")
    publish_outputs(f"Dataset: {len(report['kept'])} piece(s) kept, {len(report['dropped'])} dropped",
                    [Path(p) for p in report["written"]])
    print("\n".join(report["lines"][-5:]))
    return report["written"][0]


if __name__ == "__main__":
    extract_music_flow()
