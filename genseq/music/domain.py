"""Music as a domain (genseq/core/domain.py): MIDI files and recordings read as NoteSequences, split,
encoded as melodies or piano rolls, transposed for augmentation. Training, loading, evaluating and
sampling are written once, against this, in genseq/model/."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from genseq.core.config import MusicConfig
from genseq.core.domain import FileProgress, ReadReport, find_domain_files, read_files, require_some
from genseq.core.errors import GenseqError
from genseq.core.notes import NoteSequence, load_sequences
from genseq.core.paths import configs_dir
from genseq.core.pieces import AugmentedSource, Split, seeded_split
from genseq.music.audio import AUDIO_SUFFIXES, transcribe_audio
from genseq.music.encode import Encoding, MelodyEncoding, make_encoding
from genseq.music.midi import MIDI_SUFFIXES, InstrumentSelection, read_midi

SPLITS = ("train", "valid", "test")
DATASET_SUFFIX = ".npz"


def read_music_file(path: str | Path, steps_per_quarter: int, selection: InstrumentSelection | None = None) -> NoteSequence:
    """A MIDI file, or an audio recording transcribed (monophonic, on its own tempo's grid); a piece of
    fewer than 2 grid steps is refused."""
    if Path(path).suffix.lower() in AUDIO_SUFFIXES:
        sequence = transcribe_audio(path, steps_per_quarter)
    else:
        sequence = read_midi(path, steps_per_quarter, selection)
    if sequence.total_steps < 2:
        raise GenseqError("too short: fewer than 2 grid steps", path)
    return sequence


def read_music_files(files: list[Path], steps_per_quarter: int, selection: InstrumentSelection | None = None,
                     on_file: FileProgress | None = None) -> tuple[list[NoteSequence], ReadReport]:
    """Every file read; a file that yields nothing is reported with its reason, not fatal."""
    return read_files(files, lambda path: read_music_file(path, steps_per_quarter, selection),
                      lambda sequence: {"notes": len(sequence), "steps": sequence.total_steps}, on_file)


def read_pieces(path: Path, steps_per_quarter: int, selection: InstrumentSelection | None = None,
                on_file: FileProgress | None = None) -> tuple[list[NoteSequence], ReadReport]:
    """The pieces of a .npz dataset (those on this grid), or of the music files in a folder or file."""
    if path.is_file() and path.suffix == DATASET_SUFFIX:
        sequences = [s for s in load_sequences(path) if s.steps_per_quarter == steps_per_quarter]
        if not sequences:
            raise GenseqError(f"no sequences quantised at {steps_per_quarter} steps per quarter", path)
        return sequences, ReadReport(kept=[{"file": str(path), "notes": sum(map(len, sequences)), "steps": 0}])
    files = find_domain_files(MUSIC, [path])
    sequences, report = read_music_files(files, steps_per_quarter, selection, on_file)
    require_some(sequences, files, report.dropped, MUSIC.noun, path)
    return sequences, report


def load_music_split(data: str | Path, steps_per_quarter: int, seed: int = 0, valid_fraction: float = 0.1,
                     test_fraction: float = 0.1) -> Split:
    """A folder with train/valid/test subfolders is used as split; anything else gets a seeded split."""
    data = Path(data)
    if not data.exists():
        raise GenseqError("no such data file or folder", data)
    if data.is_dir() and all((data / name).is_dir() for name in SPLITS):
        parts, dropped = {}, []
        for name in SPLITS:
            parts[name], part_report = read_pieces(data / name, steps_per_quarter)
            dropped += part_report.dropped
        return Split(parts["train"], parts["valid"], parts["test"], "the folder's train/valid/test split", dropped)
    sequences, report = read_pieces(data, steps_per_quarter)
    if len(sequences) < 2:
        raise GenseqError(f"need at least 2 usable pieces to train and validate, found {len(sequences)}", data)
    train_part, valid_part, test_part = seeded_split(sequences, seed, valid_fraction, test_fraction)
    return Split(train_part, valid_part, test_part,
                 f"seeded split (seed {seed}, valid {valid_fraction}, test {test_fraction})", report.dropped)


def transposer(semitones: int) -> Callable | None:
    """Epoch augmentation: every piece transposed by a random shift in [-semitones, semitones]."""
    if not semitones:
        return None

    def augment(sequences: list[NoteSequence], rng: np.random.Generator) -> list[NoteSequence]:
        shifts = rng.integers(-semitones, semitones + 1, size=len(sequences))
        return [s.transposed(int(k)) for s, k in zip(sequences, shifts)]

    return augment


class MusicDomain:
    """Melodies and piano rolls from MIDI files, recordings and .npz datasets."""

    kind = "music"
    suffixes = MIDI_SUFFIXES + AUDIO_SUFFIXES
    noun = "MIDI files or recordings"

    def config_model(self) -> type:
        return MusicConfig

    def config_file(self, representation: str | None) -> Path:
        return configs_dir() / f"music-{representation or 'melody'}.yaml"

    def read_file(self, path: Path, config: MusicConfig) -> NoteSequence:
        return read_music_file(path, config.steps_per_quarter)

    def load_split(self, data: Path, config: MusicConfig) -> Split:
        train = config.train
        return load_music_split(data, config.steps_per_quarter, train.seed, train.valid_fraction, train.test_fraction)

    def representation_for(self, config: MusicConfig, train_items: list) -> Encoding:
        if config.representation == "melody":
            return MelodyEncoding(config.steps_per_quarter)
        return make_encoding({"name": config.representation, "steps_per_quarter": config.steps_per_quarter})

    def training_source(self, representation: Encoding, train_items: list, config: MusicConfig) -> AugmentedSource:
        return AugmentedSource(train_items, representation.encode, transposer(config.train.transpose))

    def record(self, split: Split, config: MusicConfig) -> dict:
        return {}

    def from_metadata(self, metadata: dict) -> Encoding:
        return make_encoding(metadata)


MUSIC = MusicDomain()
