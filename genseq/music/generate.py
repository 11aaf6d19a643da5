"""Generate music: sample new pieces from a model (continuing a primer when given) and write them
as MIDI, with a WAV and a piano-roll PNG beside each when the options ask. The CLI, the flows and
batch all come through generate_and_render with one GenerateMusicOptions."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from genseq.core.atomic import atomic_outputs, check_output_paths, ensure_writable_dir, folder_kept_only_on_success
from genseq.core.errors import GenseqError
from genseq.core.notes import NoteSequence, bar_positions, steps_per_bar
from genseq.core.options import DEFAULT_BARS, TEMPO_RANGE, GenerateMusicOptions
from genseq.core.paths import bundled_checkpoint
from genseq.model.load import LoadedModel, load_model
from genseq.model.sampler import ActiveInputs, Sampler, sample_continuations
from genseq.music.domain import MUSIC, read_music_file
from genseq.music.greedy import greedy_sampler
from genseq.music.joint_draw import draw_below
from genseq.music.long_form import PieceControls, joint_score, sample_long_form
from genseq.music.midi import write_midi

Progress = Callable[[int, int], None]


def default_checkpoint(representation: str = "melody") -> Path:
    return bundled_checkpoint(f"music-{representation}.pt")


def generation_steps(options: GenerateMusicOptions, spq: int, qpm: float, time_signature: tuple[int, int, int]) -> int:
    if options.seconds is not None:
        return max(1, round(options.seconds * qpm / 60.0 * spq))
    return (options.bars or DEFAULT_BARS) * steps_per_bar(spq, time_signature[1], time_signature[2])


def steps_to_next_bar(time_signatures, steps_per_quarter: int, step: int) -> int:
    in_bar, _ = bar_positions(time_signatures, steps_per_quarter, [step])
    length = steps_per_bar(steps_per_quarter, *time_signatures[-1][1:])
    return int(-in_bar[0] % length)


def usable_tempo(qpm: float) -> float:
    """A primer's tempo as the output's, kept within what the tempo option allows (a file claiming a
    quarter note of 1 microsecond would otherwise give a piece of a few microseconds)."""
    low, high = TEMPO_RANGE
    return float(min(max(qpm, low), high)) if qpm and qpm == qpm else 120.0


def output_names(options: GenerateMusicOptions) -> list[str]:
    return [path.stem for path in output_files(Path(options.out), options.num_outputs, False, False)]


def planned_outputs(options: GenerateMusicOptions) -> list[Path]:
    """Every file generate_and_render will write, in the order it writes them."""
    return output_files(Path(options.out), options.num_outputs, options.png, options.wav)


def output_files(out: Path, count: int, png: bool, wav: bool) -> list[Path]:
    """The files of `count` pieces in the folder `out`: each piece's MIDI, then its PNG and WAV when asked
    (batch plans a row's outputs with this too)."""
    suffixes = [".mid"] + ([".png"] if png else []) + ([".wav"] if wav else [])
    return [out / f"sample_{index:03d}{suffix}" for index in range(count) for suffix in suffixes]


def sample_music(options: GenerateMusicOptions, progress: Progress | None = None,
                 controls: PieceControls | None = None) -> list[NoteSequence]:
    """options.num_outputs new pieces (continuing the primer when given), named sample_NNN; nothing
    is written. Same options and seed, same pieces. controls: how a whole piece is drawn (default: the
    model's, default_controls)."""
    loaded = load_model(options.checkpoint or default_checkpoint(options.representation), MUSIC, options.device)
    encoding = loaded.representation
    controls = default_controls(loaded) if controls is None else controls
    if options.primer is not None:
        primer = read_music_file(options.primer, encoding.steps_per_quarter)
        primer_values, signatures, primer_qpm = encoding.values(primer), primer.time_signatures, primer.qpm
        primer_vectors, first_step = primer_value_vectors(encoding, primer_values, controls.primer_lead_in)
    else:
        primer_values, signatures, primer_qpm = encoding.silence(), [(0, 4, 4)], 120.0
        primer_vectors, first_step = encoding.value_vectors(primer_values), -1
    qpm = options.tempo or usable_tempo(primer_qpm)
    steps = generation_steps(options, encoding.steps_per_quarter, qpm, signatures[-1])
    # a continuation written without its primer starts on the next bar line, so its bars are the model's bars
    start = first_step + len(primer_vectors)
    drop = 0 if options.include_primer else steps_to_next_bar(signatures, encoding.steps_per_quarter, start)
    sampled = sample_steps(loaded, primer_vectors, first_step, signatures, steps + drop, options, progress,
                           controls, primer_values if options.primer is not None else None)
    results = []
    for name, values in zip(output_names(options), sampled):
        values = values[drop:]
        if options.include_primer and options.primer is not None:
            values = np.concatenate([primer_values.astype(values.dtype), values])
        results.append(encoding.to_sequence(values, qpm, signatures if options.include_primer else [(0, *signatures[-1][1:])],
                                            name=name))
    if all(len(sequence) == 0 for sequence in results):
        raise GenseqError(f"every sampled piece is silent (at temperature {options.temperature:g} the model nearly always "
                          "picks its most likely step, a rest); use 0 (greedy, which keeps to notes) or 0.5 and up",
                          "--temperature")
    return results


def primer_value_vectors(encoding, primer_values: np.ndarray, lead_in: bool = True) -> tuple[np.ndarray, int]:
    """The value vectors a primer is fed as, and the step of the first: the encoding's lead-in (START)
    first when it has one, as before every piece it was trained on."""
    lead = encoding.lead_in() if lead_in else encoding.lead_in()[:0]
    fed = [encoding.value_vectors(lead)] if len(lead) else []
    return np.concatenate(fed + [encoding.value_vectors(primer_values)]), -len(lead)


def fed_inputs(encoding, primer_vectors: np.ndarray, first_step: int, signatures, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The primer's model inputs (each value vector beside the metric row of the step it predicts) and the
    metric rows of every step from first_step on."""
    metric_rows = encoding.metric.for_steps(signatures, np.arange(first_step, first_step + len(primer_vectors) + steps))
    return np.concatenate([primer_vectors, metric_rows[1 : len(primer_vectors) + 1]], axis=1), metric_rows


# a joint (piano-roll) head's jumps drawn from their 0.85 nucleus: bench/music_samples.py's sweep (runs at
# top_p 0.8 / 0.9 / 0.95 / exact, epsilon, state windows: bench/results/music_samples_pianoroll.json)
JOINT_HEAD_CONTROLS = PieceControls(top_p=0.85)


def default_controls(loaded: LoadedModel) -> PieceControls:
    """How generate draws a whole piece with this model (chosen by bench/music_samples.py)."""
    return JOINT_HEAD_CONTROLS if loaded.model.joint is not None else PieceControls()


def sample_steps(loaded: LoadedModel, primer_vectors: np.ndarray, first_step: int, signatures, steps: int,
                 options: GenerateMusicOptions, progress: Progress | None, controls: PieceControls = PieceControls(),
                 primer_values: np.ndarray | None = None) -> np.ndarray:
    """(num_outputs, steps, ...) values sampled after the primer's input vectors (its first at first_step),
    one recurrent update a step."""
    encoding = loaded.representation
    fed = len(primer_vectors)
    end = first_step + fed + steps
    primer_inputs, metric_rows = fed_inputs(encoding, primer_vectors, first_step, signatures, steps)
    if encoding.head == "categorical":
        next_input = one_hot_inputs(encoding, metric_rows, fed)
    else:
        metric = torch.from_numpy(metric_rows).to(loaded.device)

        def next_input(values: torch.Tensor, index: int) -> torch.Tensor:
            row = metric[fed + index + 1].expand(values.shape[0], -1)
            return torch.cat([encoding.value_vectors_torch(values), row], dim=-1)

    on_step = None if progress is None else (lambda done: progress(done, steps))
    if options.temperature == 0:  # greedy: the most likely music, not the silence a plain argmax gives
        bar_steps = steps_per_bar(encoding.steps_per_quarter, *signatures[-1][1:])
        sampler = greedy_sampler(loaded.model, encoding, options, bar_steps, primer_values, options.num_outputs)
    elif controls.active:
        sampler = Sampler(loaded.model, encoding.head, options)
        in_bar, _ = bar_positions(signatures, encoding.steps_per_quarter, np.arange(first_step + fed, end))
        joint = loaded.model.joint
        if joint is None and (controls.candidates > 1 or controls.own_draw):
            raise GenseqError("candidates, epsilon and a joint top_p need a model with a joint (NADE) head", loaded.path)
        nothing_given = np.zeros(joint.units if joint is not None else 0, np.float32)
        draw = None if not controls.own_draw else (lambda index: torch.from_numpy(draw_below(
            joint, sampler.outputs, 0, nothing_given, options.temperature, options.top_k, sampler.generator,
            controls.epsilon, controls.top_p)))
        return sample_long_form(sampler, primer_inputs, next_input, steps, options.num_outputs, controls, in_bar == 0,
                                joint_score(loaded.model) if joint is not None else None, on_step, draw).cpu().numpy()
    else:
        sampler = Sampler(loaded.model, encoding.head, options)
    return sample_continuations(sampler, primer_inputs, next_input, steps, options.num_outputs, on_step).cpu().numpy()


def one_hot_inputs(encoding, metric_rows: np.ndarray, primer_steps: int) -> Callable[[torch.Tensor, int], ActiveInputs]:
    """A melody's next input given by its ones (the sampled event's column, then the step's metric columns,
    prepared once): the sampler's prepared step then sums a few weight rows instead of a matrix product."""
    offset = encoding.input_size - encoding.metric.size
    metric_columns = [np.flatnonzero(row) + offset for row in metric_rows]

    def next_input(values: torch.Tensor, index: int) -> ActiveInputs:
        columns = metric_columns[primer_steps + index + 1]
        active = np.empty((len(values), 1 + len(columns)), np.int64)
        active[:, 0] = values.cpu().numpy()
        active[:, 1:] = columns
        return ActiveInputs(active)

    return next_input


def generate_music(options: GenerateMusicOptions, progress: Progress | None = None) -> list[NoteSequence]:
    """Sample new pieces and write each as options.out/sample_NNN.mid (no WAV or PNG)."""
    return write_pieces(options.model_copy(update={"wav": False, "png": False}), progress)[0]


def generate_and_render(options: GenerateMusicOptions, progress: Progress | None = None) -> list[Path]:
    """Sample new pieces and write a MIDI, and as the options ask a piano-roll PNG and a WAV, of each;
    all or nothing: the files appear together once every one is written. Returns every path."""
    return write_pieces(options, progress)[1]


def write_pieces(options: GenerateMusicOptions, progress: Progress | None) -> tuple[list[NoteSequence], list[Path]]:
    """The pieces (sampled, or with options.harmonize the lower voices under a given melody) and their files."""
    from genseq.music.harmonize import harmonize_pieces
    from genseq.music.render import synthesize, write_pianoroll_png, write_wav

    out_dir, planned = Path(options.out), planned_outputs(options)
    with folder_kept_only_on_success(out_dir):
        ensure_writable_dir(out_dir)
        check_output_paths(*planned)
        sequences = (harmonize_pieces if options.harmonize else sample_music)(options, progress)
        with atomic_outputs() as group:
            for sequence in sequences:
                midi = out_dir / f"{sequence.name}.mid"
                written_midi = write_midi(sequence, group.path(midi), program=options.program)
                if options.png:
                    write_pianoroll_png(sequence, group.path(midi.with_suffix(".png")))
                if options.wav:
                    write_wav(synthesize(written_midi, options.allow_sine), group.path(midi.with_suffix(".wav")))
    return sequences, planned
