"""The music stages (extract, train, eval, generate), shared by the CLI and the Prefect flows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from genseq.core.atomic import atomic_write_text, ensure_writable_dir
from genseq.core.config import MusicConfig, load_yaml_config
from genseq.core.errors import GenseqError
from genseq.core.notes import NoteSequence, bar_positions, load_sequences, save_sequences, steps_per_bar
from genseq.core.paths import assets_dir, configs_dir
from genseq.model.sample import SamplingOptions, sample_continuations
from genseq.model.train import ModelSpec, TrainResult, load_trained_model, step_losses_of, train
from genseq.music.encode import FIRST_PITCH_EVENT, EncodedPiece, Encoding, MelodyEncoding, PianorollEncoding, make_encoding
from genseq.core.files import find_files
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


def extract_music(
    paths: list[str | Path], out: str | Path, steps_per_quarter: int = 4,
    selection: InstrumentSelection | None = None, on_file: Callable[[int, int], None] | None = None,
    write_midi_dir: str | Path | None = None,
) -> ExtractReport:
    """MIDI files and audio recordings to a note-sequence dataset file; with write_midi_dir, each
    kept piece (e.g. a transcription) is also written there as <name>.mid."""
    files = find_music_files(paths)
    sequences, report = read_many(files, steps_per_quarter, selection, on_file)
    if not sequences and len(files) == 1:
        raise GenseqError(report.dropped[0]["reason"], files[0])
    if not sequences:
        reasons = "; ".join(f"{Path(d['file']).name}: {d['reason']}" for d in report.dropped[:3])
        raise GenseqError(f"no usable MIDI among {len(files)} file(s) ({reasons})", paths[0] if len(paths) == 1 else None)
    save_sequences(sequences, out)
    for sequence in sequences if write_midi_dir is not None else []:
        write_midi(sequence, Path(write_midi_dir) / f"{sequence.name}.mid")
    return report


def extract_corpus(name: str, out: str | Path, steps_per_quarter: int = 4, voices: str = "all", on_piece=None) -> int:
    """A corpus shipped offline (see genseq.music.corpora) to a note-sequence dataset file."""
    from genseq.music.corpora import load_corpus

    sequences = load_corpus(name, steps_per_quarter, voices, on_piece)
    save_sequences(sequences, out)
    return len(sequences)


def default_music_config(representation: str) -> MusicConfig:
    """The tuned defaults of a representation: configs/music-<representation>.yaml."""
    return load_yaml_config(configs_dir() / f"music-{representation}.yaml", MusicConfig)


def encoding_for(config: MusicConfig) -> Encoding:
    if config.representation == "melody":
        return MelodyEncoding(config.steps_per_quarter)
    return PianorollEncoding(config.steps_per_quarter)


@dataclass
class MusicData:
    train: list[NoteSequence]
    valid: list[NoteSequence]
    test: list[NoteSequence]
    how: str
    report: ExtractReport


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
) -> MusicData:
    """A folder with train/valid/test subfolders is used as split; anything else gets a seeded split."""
    data = Path(data)
    if not data.exists():
        raise GenseqError("no such data file or folder", data)
    if data.is_dir() and all((data / name).is_dir() for name in SPLITS):
        parts, report = {}, ExtractReport()
        for name in SPLITS:
            parts[name], part_report = load_sequences_from(data / name, steps_per_quarter, selection)
            report.kept += part_report.kept
            report.dropped += part_report.dropped
        return MusicData(parts["train"], parts["valid"], parts["test"], "the folder's train/valid/test split", report)
    sequences, report = load_sequences_from(data, steps_per_quarter, selection)
    if len(sequences) < 2:
        raise GenseqError(f"need at least 2 usable pieces to train and validate, found {len(sequences)}", data)
    order = np.random.default_rng(seed).permutation(len(sequences))
    n_valid = max(1, round(len(sequences) * valid_fraction))
    n_test = min(round(len(sequences) * test_fraction), len(sequences) - n_valid - 1)
    pick = lambda idx: [sequences[i] for i in idx]  # noqa: E731
    return MusicData(pick(order[n_valid + n_test :]), pick(order[:n_valid]), pick(order[n_valid : n_valid + n_test]),
                     f"seeded split (seed {seed}, valid {valid_fraction}, test {test_fraction})", report)


class MusicSource:
    """Training pieces per epoch, randomly transposed by up to ±transpose semitones."""

    def __init__(self, sequences: list[NoteSequence], encoding: Encoding, transpose: int):
        self.sequences, self.encoding, self.transpose = sequences, encoding, transpose
        self.untransposed = [encoding.encode(s) for s in sequences]

    def epoch(self, rng: np.random.Generator) -> list[EncodedPiece]:
        if not self.transpose:
            return self.untransposed
        shifts = rng.integers(-self.transpose, self.transpose + 1, size=len(self.sequences))
        return [self.encoding.encode(s.transposed(int(k))) for s, k in zip(self.sequences, shifts)]


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
    out = ensure_writable_dir(out)
    cfg = config.train
    music = load_music_data(data, config.steps_per_quarter, cfg.seed, cfg.valid_fraction, cfg.test_fraction)
    if not music.train or not music.valid:
        raise GenseqError(f"need training and validation pieces, found {len(music.train)} and {len(music.valid)}", data)
    atomic_write_text(out / "data.json", json.dumps({
        "data": str(data), "split": music.how,
        **{name: [s.name for s in getattr(music, name)] for name in SPLITS},
        "dropped": music.report.dropped,
    }, indent=1))
    encoding = encoding_for(config)
    source = MusicSource(music.train, encoding, cfg.transpose)
    valid = [encoding.encode(s) for s in music.valid]
    spec = music_spec(config, encoding, source.untransposed)
    return train(spec, cfg, source, valid, out, device, progress, show_progress)


@dataclass
class LoadedMusicModel:
    model: torch.nn.Module
    encoding: Encoding
    payload: dict

    @property
    def config(self) -> MusicConfig:
        return MusicConfig.model_validate(self.payload["config"])


def default_checkpoint(representation: str = "melody") -> Path:
    path = assets_dir() / f"music-{representation}.pt"
    if not path.exists():
        raise GenseqError("bundled model is missing; pass --checkpoint", path)
    return path


def load_music_model(checkpoint: str | Path, device: str | None = None) -> LoadedMusicModel:
    model, payload = load_trained_model(checkpoint, "music", device)
    return LoadedMusicModel(model, make_encoding(payload.get("representation", {})), payload)


def evaluate_music(checkpoint: str | Path, data: str | Path, device: str | None = None) -> dict:
    """Per-frame NLL under the benchmark protocol (first frame of each piece not predicted); for
    melodies also NLL per note-on event and accuracy. A folder with a test/ subfolder is evaluated on test/."""
    loaded = load_music_model(checkpoint, device)
    data = Path(data)
    target = data / "test" if data.is_dir() and (data / "test").is_dir() else data
    sequences, report = load_sequences_from(target, loaded.encoding.steps_per_quarter)
    if not sequences:
        raise GenseqError("no usable pieces to evaluate", target)
    pieces = [loaded.encoding.encode(s) for s in sequences]
    device_used = next(loaded.model.parameters()).device
    results = step_losses_of(loaded.model, pieces, loaded.encoding.head, device_used)
    total = float(sum(losses.sum() for losses, _ in results))
    frames = int(sum(len(losses) for losses, _ in results))
    metrics = {
        "checkpoint": loaded.payload["path"], "data": str(target), "representation": loaded.encoding.name,
        "pieces": len(pieces), "dropped": len(report.dropped), "frames": frames, "nll_per_frame": total / frames,
    }
    if loaded.encoding.head == "categorical":
        targets = np.concatenate([p.targets for p in pieces])
        predictions = np.concatenate([pred for _, pred in results])
        events = int((targets >= FIRST_PITCH_EVENT).sum())
        metrics.update({
            "events": events, "nll_per_event": total / max(events, 1),
            "accuracy": float((predictions == targets).mean()),
            "event_accuracy": float((predictions == targets)[targets >= FIRST_PITCH_EVENT].mean()) if events else None,
        })
    return metrics


@dataclass
class GenerateOptions:
    primer: str | Path | None = None
    include_primer: bool = False
    bars: int | None = None
    seconds: float | None = None
    num_outputs: int = 1
    tempo: float | None = None
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    program: int | None = None


def generation_steps(options: GenerateOptions, spq: int, qpm: float, time_signature: tuple[int, int, int]) -> int:
    if options.seconds is not None:
        return max(1, round(options.seconds * qpm / 60.0 * spq))
    return (options.bars or 8) * steps_per_bar(spq, time_signature[1], time_signature[2])


def steps_to_next_bar(time_signatures, steps_per_quarter: int, step: int) -> int:
    in_bar, _ = bar_positions(time_signatures, steps_per_quarter, [step])
    length = steps_per_bar(steps_per_quarter, *time_signatures[-1][1:])
    return int(-in_bar[0] % length)


def generate_music(
    checkpoint: str | Path, out_dir: str | Path, options: GenerateOptions, device: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[NoteSequence]:
    """Sample new pieces (continuing the primer when given); write sample_NNN.mid into out_dir."""
    out_dir = ensure_writable_dir(out_dir)
    loaded = load_music_model(checkpoint, device)
    encoding = loaded.encoding
    if options.primer is not None:
        primer = read_music_file(options.primer, encoding.steps_per_quarter)
        primer_values, first_step = encoding.values(primer), 0
        signatures, primer_qpm = primer.time_signatures, primer.qpm
    else:
        primer_values, first_step, signatures, primer_qpm = encoding.silence(), -1, [(0, 4, 4)], 120.0
    qpm = options.tempo or primer_qpm
    steps = generation_steps(options, encoding.steps_per_quarter, qpm, signatures[-1])
    # a continuation written without its primer starts on the next bar line, so its bars are the model's bars
    start = first_step + len(primer_values)
    drop = 0 if options.include_primer else steps_to_next_bar(signatures, encoding.steps_per_quarter, start)
    steps += drop
    end = start + steps
    metric = torch.from_numpy(encoding.metric.for_steps(signatures, np.arange(first_step, end)))
    primer_inputs = np.concatenate([encoding.value_vectors(primer_values), metric[1 : len(primer_values) + 1].numpy()], axis=1)
    device_used = next(loaded.model.parameters()).device
    metric = metric.to(device_used)

    def next_input(values: torch.Tensor, index: int) -> torch.Tensor:
        row = metric[len(primer_values) + index + 1].expand(values.shape[0], -1)
        return torch.cat([encoding.value_vectors_torch(values), row], dim=-1)

    sampled = sample_continuations(loaded.model, encoding.head, primer_inputs, next_input, steps,
                                   options.num_outputs, options.sampling, progress).cpu().numpy()
    results = []
    for index, values in enumerate(sampled):
        values = values[drop:]
        if options.include_primer and options.primer is not None:
            values = np.concatenate([primer_values.astype(values.dtype), values])
        sequence = encoding.to_sequence(values, qpm, signatures if options.include_primer else [(0, *signatures[-1][1:])],
                                        name=f"sample_{index:03d}")
        write_midi(sequence, out_dir / f"{sequence.name}.mid", program=options.program)
        results.append(sequence)
    return results


def resolve_music_config(config_path: str | Path | None, representation: str | None, overrides: dict) -> MusicConfig:
    """The config file (or the representation's tuned default) with command-line overrides applied."""
    from genseq.core.config import with_overrides

    if config_path is not None:
        base = load_yaml_config(config_path, MusicConfig)
    else:
        base = default_music_config(representation or "melody")
    return with_overrides(base, {"representation": representation, **overrides}, config_path)


def generate_and_render(
    checkpoint: str | Path, out_dir: str | Path, options: GenerateOptions, wav: bool = False, png: bool = False,
    allow_sine: bool = False, device: str | None = None, progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Generate, then write a WAV and/or piano-roll PNG beside each MIDI; returns every path written."""
    from genseq.music.render import write_pianoroll_png, write_wav_of_midi

    out_dir = Path(out_dir)
    written = []
    for sequence in generate_music(checkpoint, out_dir, options, device, progress):
        midi_path = out_dir / f"{sequence.name}.mid"
        written.append(midi_path)
        if png:
            written.append(write_pianoroll_png(sequence, midi_path.with_suffix(".png")))
        if wav:
            written.append(write_wav_of_midi(midi_path, allow_sine))
    return written
