"""The music stages (extract, train, eval, generate), shared by the CLI and the Prefect flows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from genseq.core.config import MusicConfig, config_yaml, resolve_config
from genseq.core.lock import run_lock
from genseq.core.resources import check_model_memory
from genseq.core.errors import GenseqError
from genseq.core.files import find_files
from genseq.core.notes import NoteSequence, dataset_path, load_sequences, save_sequences
from genseq.core.atomic import check_output_paths
from genseq.core.options import ExtractMusicOptions, TrainMusicOptions
from genseq.core.paths import configs_dir
from genseq.core.pieces import AugmentedSource, EncodedPiece, Split, seeded_split
from genseq.model.recurrent import pick_device
from genseq.model.runs import start_run
from genseq.model.train import ModelSpec, TrainResult, step_losses_of, train
from genseq.music.encode import FIRST_PITCH_EVENT, Encoding, MelodyEncoding, PianorollEncoding
from genseq.music.generate import load_music_model
from genseq.music.audio import AUDIO_SUFFIXES, transcribe_audio
from genseq.music.midi import MIDI_SUFFIXES, InstrumentSelection, read_midi, write_midi

SPLITS = ("train", "valid", "test")


@dataclass
class ExtractReport:
    kept: list[dict] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"kept {k['file']}: {k['notes']} notes, {k['steps']} steps" for k in self.kept]
        out += [f"dropped {d['file']}: {d['reason']}" for d in self.dropped]
        out.append(f"{len(self.kept)} kept, {len(self.dropped)} dropped")
        return out


def find_music_files(paths: list[str | Path]) -> list[Path]:
    """MIDI files and audio recordings named directly or found (recursively, sorted) under folders."""
    return find_files(paths, MIDI_SUFFIXES + AUDIO_SUFFIXES)


def read_music_file(path: str | Path, steps_per_quarter: int, selection: InstrumentSelection | None = None) -> NoteSequence:
    """A MIDI file, or an audio recording transcribed (monophonic, on its own tempo's grid)."""
    if Path(path).suffix.lower() in AUDIO_SUFFIXES:
        return transcribe_audio(path, steps_per_quarter)
    return read_midi(path, steps_per_quarter, selection)


def read_many(
    files: list[Path], steps_per_quarter: int, selection: InstrumentSelection | None = None,
    on_file: Callable[[int, int], None] | None = None,
) -> tuple[list[NoteSequence], ExtractReport]:
    """Read every file; a file that yields nothing is reported with its reason, not fatal.
    ``on_file(done, total)`` is called once before the first file and after each file."""
    sequences, report = [], ExtractReport()
    if on_file:
        on_file(0, len(files))
    for index, path in enumerate(files):
        try:
            sequence = read_music_file(path, steps_per_quarter, selection)
            if sequence.total_steps < 2:
                raise GenseqError("too short: fewer than 2 grid steps", path)
            sequences.append(sequence)
            report.kept.append({"file": str(path), "notes": len(sequence), "steps": sequence.total_steps})
        except GenseqError as exc:
            report.dropped.append({"file": str(path), "reason": exc.problem})
        if on_file:
            on_file(index + 1, len(files))
    return sequences, report


def extract_music(options: ExtractMusicOptions, on_file: Callable[[int, int], None] | None = None) -> tuple[ExtractReport, Path]:
    """MIDI files and audio recordings to a note-sequence dataset file; with options.write_midi, each
    kept piece (e.g. a transcription) is also written beside it as <name>.mid. Returns the report and
    the dataset path written."""
    if not options.paths:
        raise GenseqError("give MIDI files, recordings or folders, or --corpus", "paths")
    files = find_music_files(options.paths)
    if not files:
        raise GenseqError("no MIDI files or recordings found", options.paths[0] if len(options.paths) == 1 else None)
    selection = InstrumentSelection(options.program, options.name, options.index, options.include_drums)
    sequences, report = read_many(files, options.steps_per_quarter, selection, on_file)
    if not sequences and len(files) == 1:
        raise GenseqError(report.dropped[0]["reason"], files[0])
    if not sequences:
        reasons = "; ".join(f"{Path(d['file']).name}: {d['reason']}" for d in report.dropped[:3])
        raise GenseqError(f"no usable MIDI or recording among {len(files)} file(s) ({reasons})",
                          options.paths[0] if len(options.paths) == 1 else None)
    midi_dir = Path(options.out).parent
    check_output_paths(dataset_path(options.out), *[midi_dir / f"{s.name}.mid" for s in sequences if options.write_midi])
    written = save_sequences(sequences, options.out)
    for sequence in sequences if options.write_midi else []:
        write_midi(sequence, midi_dir / f"{sequence.name}.mid")
    return report, written


def extract_corpus(options: ExtractMusicOptions, on_piece=None) -> tuple[int, Path]:
    """A corpus shipped offline (see genseq.music.corpora) to a note-sequence dataset file."""
    from genseq.music.corpora import load_corpus

    check_output_paths(dataset_path(options.out))
    sequences = load_corpus(options.corpus, options.steps_per_quarter, options.voices, on_piece)
    return len(sequences), save_sequences(sequences, options.out)


def resolve_music_config(options: TrainMusicOptions) -> MusicConfig:
    """configs/music-<representation>.yaml (the tuned defaults), the user's --config over it, then the
    shortcut flags and every --set."""
    representation = options.representation or config_representation(options.config) or "melody"
    flags = {**options.shortcuts(), **({(None, "representation"): representation} if options.representation else {})}
    return resolve_config(MusicConfig, configs_dir() / f"music-{representation}.yaml", options.config,
                          flags, options.set, base_over={"representation": representation})


def config_representation(config_path: str | None) -> str | None:
    from genseq.core.config import read_yaml_mapping

    return None if config_path is None else read_yaml_mapping(config_path).get("representation")


def encoding_for(config: MusicConfig) -> Encoding:
    if config.representation == "melody":
        return MelodyEncoding(config.steps_per_quarter)
    return PianorollEncoding(config.steps_per_quarter)


def load_sequences_from(path: Path, steps_per_quarter: int, selection=None, on_file=None) -> tuple[list[NoteSequence], ExtractReport]:
    if path.is_file() and path.suffix == ".npz":
        sequences = [s for s in load_sequences(path) if s.steps_per_quarter == steps_per_quarter]
        if not sequences:
            raise GenseqError(f"no sequences quantised at {steps_per_quarter} steps per quarter", path)
        return sequences, ExtractReport(kept=[{"file": str(path), "notes": sum(map(len, sequences)), "steps": 0}])
    return read_many(find_music_files([path]), steps_per_quarter, selection, on_file)


def load_music_data(
    data: str | Path, steps_per_quarter: int, seed: int = 0, valid_fraction: float = 0.1, test_fraction: float = 0.1,
    selection: InstrumentSelection | None = None,
) -> Split:
    """A folder with train/valid/test subfolders is used as split; anything else gets a seeded split."""
    data = Path(data)
    if not data.exists():
        raise GenseqError("no such data file or folder", data)
    if data.is_dir() and all((data / name).is_dir() for name in SPLITS):
        parts, dropped = {}, []
        for name in SPLITS:
            parts[name], part_report = load_sequences_from(data / name, steps_per_quarter, selection)
            dropped += part_report.dropped
        return Split(parts["train"], parts["valid"], parts["test"], "the folder's train/valid/test split", dropped)
    sequences, report = load_sequences_from(data, steps_per_quarter, selection)
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


def music_spec(config: MusicConfig, encoding: Encoding, train_pieces: list[EncodedPiece] | None = None) -> ModelSpec:
    bias = None if not train_pieces else output_bias(encoding, train_pieces)
    return ModelSpec("music", encoding.head, encoding.input_size, encoding.value_size, encoding.metadata(),
                     config.model_dump(), bias)


def output_bias(encoding: Encoding, pieces: list[EncodedPiece]) -> list[float]:
    """The output bias that predicts the training data's marginal frequencies."""
    targets = np.concatenate([p.targets for p in pieces])
    if encoding.head == "bernoulli":
        p = np.clip(targets.mean(0), 1e-4, 1 - 1e-4)
        return np.log(p / (1 - p)).tolist()
    counts = np.bincount(targets, minlength=encoding.value_size) + 1.0
    return np.log(counts / counts.sum()).tolist()


def train_music(
    data: str | Path, out: str | Path, config: MusicConfig, device: str | None = None,
    progress: Callable[[dict], None] | None = None, show_progress: bool = True,
) -> TrainResult:
    """Train a melody or piano-roll model on data (a MIDI folder, with or without train/ valid/ test/,
    or a .npz dataset); the split goes into out/data.json, the resolved config into out/config.yaml."""
    pick_device(device)  # a device this machine lacks is refused before anything is written
    cfg = config.train
    music = load_music_data(data, config.steps_per_quarter, cfg.seed, cfg.valid_fraction, cfg.test_fraction)
    if not music.train or not music.valid:
        raise GenseqError(f"need training and validation pieces, found {len(music.train)} and {len(music.valid)}", data)
    encoding = encoding_for(config)
    check_model_memory(config.model, encoding.input_size, encoding.value_size, cfg)  # before anything is written
    with run_lock(out):
        start_run(out, {"data": str(data), "split": music.how,
                        **{name: [s.name for s in getattr(music, name)] for name in SPLITS}, "dropped": music.dropped},
                  config_yaml(config))
        source = AugmentedSource(music.train, encoding.encode, transposer(cfg.transpose))
        valid = [encoding.encode(s) for s in music.valid]
        return train(music_spec(config, encoding, source.plain), cfg, source, valid, out, device, progress, show_progress)


def evaluate_music(checkpoint: str | Path, data: str | Path, device: str | None = None) -> dict:
    """Per-frame NLL under the benchmark protocol (first frame of each piece not predicted); for
    melodies also NLL per note-on event and accuracy. A folder with a test/ subfolder is evaluated on test/."""
    loaded = load_music_model(checkpoint, device)
    data = Path(data)
    target = data / "test" if data.is_dir() and (data / "test").is_dir() else data
    sequences, report = load_sequences_from(target, loaded.representation.steps_per_quarter)
    if not sequences:
        raise GenseqError("no usable pieces to evaluate", target)
    pieces = [loaded.representation.encode(s) for s in sequences]
    device_used = next(loaded.model.parameters()).device
    results = step_losses_of(loaded.model, pieces, loaded.representation.head, device_used)
    total = float(sum(losses.sum() for losses, _ in results))
    frames = int(sum(len(losses) for losses, _ in results))
    metrics = {
        "checkpoint": loaded.payload["path"], "data": str(target), "representation": loaded.representation.name,
        "pieces": len(pieces), "dropped": len(report.dropped), "frames": frames, "nll_per_frame": total / frames,
    }
    if loaded.representation.head == "categorical":
        targets = np.concatenate([p.targets for p in pieces])
        predictions = np.concatenate([pred for _, pred in results])
        events = int((targets >= FIRST_PITCH_EVENT).sum())
        metrics.update({
            "events": events, "nll_per_event": total / max(events, 1),
            "accuracy": float((predictions == targets).mean()),
            "event_accuracy": float((predictions == targets)[targets >= FIRST_PITCH_EVENT].mean()) if events else None,
        })
    return metrics
