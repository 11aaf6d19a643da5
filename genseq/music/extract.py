"""Extract music: MIDI files and recordings (or a corpus shipped offline) to a note-sequence dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from genseq.core.atomic import check_output_paths
from genseq.core.domain import FileProgress, ReadReport, find_domain_files, require_some
from genseq.core.errors import GenseqError
from genseq.core.notes import dataset_path, save_sequences
from genseq.core.options import ExtractMusicOptions
from genseq.music.domain import MUSIC, read_music_files
from genseq.music.midi import InstrumentSelection, write_midi


def extract_music(options: ExtractMusicOptions, on_file: FileProgress | None = None) -> tuple[ReadReport, Path]:
    """MIDI files and audio recordings to a note-sequence dataset file; with options.write_midi, each
    kept piece (e.g. a transcription) is also written beside it as <name>.mid. Returns the report and
    the dataset path written."""
    if not options.paths:
        raise GenseqError("give MIDI files, recordings or folders, or --corpus", "paths")
    files = find_domain_files(MUSIC, options.paths)
    selection = InstrumentSelection(options.program, options.name, options.index, options.include_drums)
    sequences, report = read_music_files(files, options.steps_per_quarter, selection, on_file)
    require_some(sequences, files, report.dropped, MUSIC.noun, options.paths[0] if len(options.paths) == 1 else None)
    midi_dir = Path(options.out).parent
    check_output_paths(dataset_path(options.out), *[midi_dir / f"{s.name}.mid" for s in sequences if options.write_midi])
    written = save_sequences(sequences, options.out)
    for sequence in sequences if options.write_midi else []:
        write_midi(sequence, midi_dir / f"{sequence.name}.mid")
    return report, written


def extract_corpus(options: ExtractMusicOptions, on_piece: Callable[[int, int], None] | None = None) -> tuple[int, Path]:
    """A corpus shipped offline (see genseq.music.corpora) to a note-sequence dataset file."""
    from genseq.music.corpora import load_corpus

    check_output_paths(dataset_path(options.out))
    sequences = load_corpus(options.corpus, options.steps_per_quarter, options.voices, on_piece)
    return len(sequences), save_sequences(sequences, options.out)
