"""The `genseq` command line: a thin layer over the genseq stages (the Prefect flows call the same functions)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from tqdm.auto import tqdm

from genseq.core.errors import GenseqError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Generative music and motion sequences.")
extract_app = typer.Typer(no_args_is_help=True, help="Turn MIDI files into note datasets, videos and BVH files into motion clips.")
train_app = typer.Typer(no_args_is_help=True, help="Train a stacked recurrent model.")
generate_app = typer.Typer(no_args_is_help=True, help="Sample new sequences from a trained model.")
render_app = typer.Typer(no_args_is_help=True, help="Render sequences to audio, pictures and video.")
eval_app = typer.Typer(help="Evaluate a trained model on held-out data, or transcriptions against reference MIDI.")
app.add_typer(extract_app, name="extract")
app.add_typer(train_app, name="train")
app.add_typer(generate_app, name="generate")
app.add_typer(render_app, name="render")
app.add_typer(eval_app, name="eval")


def say(message: str) -> None:
    typer.echo(message, err=True)


def advance_to(bar: tqdm):
    """A progress(done, total) callback that moves a progress bar (the total may grow as it goes)."""
    def advance(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return advance


def run_training(start, out: Path) -> None:
    """Run a training, then say how it ended; Ctrl-C keeps the finished epochs and exits 130."""
    try:
        result = start()
    except KeyboardInterrupt:
        say(f"interrupted: finished epochs are saved in {out}; run the same command to resume")
        raise typer.Exit(130)
    say(f"{result.stopped_because}; best validation loss {result.best_valid_loss:.4f} after {result.epochs_run} epochs "
        f"({result.train_seconds:.0f} s, {result.params} parameters); best checkpoint {result.best_checkpoint}")


@extract_app.command("music")
def extract_music_cmd(
    paths: List[Path] = typer.Argument(None, help="MIDI files, audio recordings (wav, mp3, flac, ogg) or folders"),
    out: Path = typer.Option(..., "--out", help="dataset file to write (.npz)"),
    write_midi: bool = typer.Option(False, help="also write each piece (e.g. a transcription) as MIDI beside --out"),
    corpus: Optional[str] = typer.Option(None, help="instead of files: a corpus shipped offline, bach-chorales (needs music21)"),
    voices: str = typer.Option("all", help="with --corpus: all voices, or soprano (a melody line)"),
    steps_per_quarter: int = typer.Option(4, help="grid steps per quarter note"),
    program: List[int] = typer.Option([], help="keep only instruments with this General MIDI program (repeatable)"),
    name: List[str] = typer.Option([], help="keep only instruments whose name contains this (repeatable)"),
    index: List[int] = typer.Option([], help="keep only the instrument at this index in the file (repeatable)"),
    include_drums: bool = typer.Option(False, help="keep drum tracks too"),
    quiet: bool = typer.Option(False, help="print only the summary"),
) -> None:
    """MIDI files and recordings (monophonic transcription on the recording's own tempo grid) to a
    note-sequence dataset, saying per file what was kept and why anything was dropped."""
    from genseq.music.midi import InstrumentSelection
    from genseq.music.stages import extract_corpus, extract_music

    if corpus:
        with tqdm(unit="piece", desc=corpus, disable=True if quiet else None) as bar:
            count = extract_corpus(corpus, out, steps_per_quarter, voices, on_piece=lambda n, total: bar.update(n - bar.n))
        say(f"wrote {out}: {count} pieces of {corpus}")
        return
    if not paths:
        raise typer.BadParameter("give MIDI files or folders, or --corpus")

    selection = InstrumentSelection(program, name, index, include_drums)
    with tqdm(unit="file", desc="extract", disable=True if quiet else None) as bar:
        report = extract_music(paths, out, steps_per_quarter, selection, on_file=advance_to(bar),
                               write_midi_dir=out.parent if write_midi else None)
    lines = report.lines()
    for line in lines if not quiet else lines[-1:]:
        say(line)
    say(f"wrote {out}")


@train_app.command("music")
def train_music_cmd(
    data: Path = typer.Option(..., help="folder of MIDI files, a folder with train/ valid/ test/, or an extracted .npz"),
    out: Path = typer.Option(..., "--out", help="run folder (best.pt, last.pt); an existing run there is resumed"),
    representation: Optional[str] = typer.Option(None, help="melody or pianoroll (default: the config's, else melody)"),
    config: Optional[Path] = typer.Option(None, help="YAML config (default: the tuned configs/music-<representation>.yaml)"),
    steps_per_quarter: Optional[int] = typer.Option(None, help="grid steps per quarter note (recorded in the checkpoint)"),
    cell: Optional[str] = typer.Option(None, help="override the config's cell: lstm, gru or rnn"),
    epochs: Optional[int] = typer.Option(None, help="override the config's epoch limit"),
    max_minutes: Optional[float] = typer.Option(None, help="stop after this much training time"),
    seed: Optional[int] = typer.Option(None, help="override the config's seed"),
    device: Optional[str] = typer.Option(None, help="torch device (default: the GPU when there is one)"),
) -> None:
    """Train a melody or piano-roll model; validates each epoch, keeps the best, stops early, resumes."""
    from genseq.music.stages import resolve_music_config, train_music

    overrides = {"steps_per_quarter": steps_per_quarter, "cell": cell, "epochs": epochs, "max_minutes": max_minutes, "seed": seed}
    music_config = resolve_music_config(config, representation, overrides)
    say(f"training a {music_config.representation} model ({music_config.model.cell}, "
        f"{music_config.model.num_layers}x{music_config.model.hidden_size}) into {out}")
    run_training(lambda: train_music(data, out, music_config, device), out)


def print_metrics(metrics: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(metrics))
    else:
        for key, value in metrics.items():
            typer.echo(f"{key}: {value}")


@eval_app.callback(invoke_without_command=True)
def eval_cmd(
    ctx: typer.Context,
    checkpoint: Optional[Path] = typer.Option(None, help="checkpoint file or run folder (its best checkpoint)"),
    data: Optional[Path] = typer.Option(None, help="held-out data: MIDI folder (its test/ subfolder when it has one) or .npz"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    device: Optional[str] = typer.Option(None),
) -> None:
    """Evaluate a checkpoint on held-out data (music: NLL per frame, per event, accuracy)."""
    if ctx.invoked_subcommand is not None:
        return
    if checkpoint is None or data is None:
        raise typer.BadParameter("--checkpoint and --data are required")
    from genseq.model.checkpoint import load_checkpoint

    if load_checkpoint(checkpoint).get("kind") == "dance":
        return eval_dance_cmd(checkpoint, data, as_json, 60.0, 5, 0, device)
    from genseq.music.stages import evaluate_music

    print_metrics(evaluate_music(checkpoint, data, device), as_json)


@eval_app.command("dance")
def eval_dance_cmd(
    checkpoint: Path = typer.Option(..., help="dance checkpoint or run folder"),
    data: Path = typer.Option(..., help="held-out clips: videos, BVH files or .npz clips"),
    as_json: bool = typer.Option(False, "--json"),
    seconds: float = typer.Option(60.0, min=1.0, help="length of each generated dance"),
    num_samples: int = typer.Option(5, min=1),
    seed: int = typer.Option(0),
    device: Optional[str] = typer.Option(None),
) -> None:
    """Generated motion against real clips: freeze detector, kinetic Frechet distance, diversity, bone and foot errors."""
    from genseq.motion.stages import evaluate_dance

    print_metrics(evaluate_dance(checkpoint, data, seconds, num_samples, seed, device), as_json)


@eval_app.command("transcription")
def eval_transcription_cmd(
    audio: Path = typer.Option(..., help="folder of recordings (wav, mp3, flac, ogg ...)"),
    reference: Path = typer.Option(..., help="folder of reference MIDI files, named as the recordings"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object (with per-file rows)"),
) -> None:
    """Note precision, recall and F1 of transcriptions against reference MIDI (mir_eval matching:
    onsets within 50 ms, pitch within 50 cents)."""
    from genseq.music.transcription_eval import evaluate_transcriptions

    with tqdm(unit="file", desc="transcribe", disable=True if as_json else None) as bar:
        result = evaluate_transcriptions(audio, reference, on_file=advance_to(bar))
    if as_json:
        typer.echo(json.dumps(result))
        return
    for row in result["per_file"]:
        typer.echo(f"{row['file']}: F1 {row['f1']:.3f} (precision {row['precision']:.3f}, recall {row['recall']:.3f}, "
                   f"{row['estimated_notes']}/{row['reference_notes']} notes){'; ' + row['problem'] if 'problem' in row else ''}")
    print_metrics({key: value for key, value in result.items() if key != "per_file"}, False)


@generate_app.command("music")
def generate_music_cmd(
    out: Path = typer.Option(Path("generated"), "--out", help="folder for the new MIDI (and WAV) files"),
    checkpoint: Optional[Path] = typer.Option(None, help="checkpoint or run folder (default: the bundled model)"),
    representation: str = typer.Option("melody", help="which bundled model when no --checkpoint: melody or pianoroll"),
    primer: Optional[Path] = typer.Option(None, help="a MIDI file, or a recording of a sung or played phrase, to continue"),
    include_primer: bool = typer.Option(False, help="start the output with the primer"),
    temperature: float = typer.Option(1.0, min=0.0),
    top_k: Optional[int] = typer.Option(None, min=1, help="sample among the k most likely events (piano roll: at most k keys on)"),
    top_p: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="nucleus sampling (melody)"),
    seed: int = typer.Option(0, help="same seed, same output"),
    bars: Optional[int] = typer.Option(None, min=1, help="length in bars (default 8)"),
    seconds: Optional[float] = typer.Option(None, min=0.1, help="length in seconds (instead of bars)"),
    num_outputs: int = typer.Option(1, min=1),
    tempo: Optional[float] = typer.Option(None, min=1.0, help="quarter notes per minute (default: the primer's, else 120)"),
    program: Optional[int] = typer.Option(None, min=0, max=127, help="General MIDI program of the output"),
    wav: bool = typer.Option(False, help="also write a WAV of each output"),
    png: bool = typer.Option(False, help="also write a piano-roll PNG of each output"),
    allow_sine: bool = typer.Option(False, help="use the sine synthesiser when fluidsynth is missing"),
    device: Optional[str] = typer.Option(None),
) -> None:
    """New melodies or piano rolls, optionally continuing your own MIDI phrase."""
    from genseq.model.sample import SamplingOptions
    from genseq.music.stages import GenerateOptions, default_checkpoint, generate_and_render

    options = GenerateOptions(primer, include_primer, bars, seconds, num_outputs, tempo,
                              SamplingOptions(temperature, top_k, top_p, seed), program)
    checkpoint = checkpoint or default_checkpoint(representation)
    for path in generate_and_render(checkpoint, out, options, wav, png, allow_sine, device):
        say(f"wrote {path}")


@render_app.command("music")
def render_music_cmd(
    midi: Path = typer.Argument(..., help="MIDI file"),
    wav: Optional[Path] = typer.Option(None, help="WAV path (default: beside the MIDI)"),
    png: Optional[Path] = typer.Option(None, help="piano-roll PNG path (default: beside the MIDI)"),
    allow_sine: bool = typer.Option(False, help="use the sine synthesiser when fluidsynth is missing"),
) -> None:
    """A WAV through fluidsynth (General MIDI soundfont bundled with pretty_midi) and a piano-roll PNG."""
    from genseq.music.render import render_music

    for path in render_music(midi, wav or midi.with_suffix(".wav"), png or midi.with_suffix(".png"), allow_sine):
        say(f"wrote {path}")


def parse_rgb(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split(",")]
    if len(parts) != 3 or not all(0 <= p <= 255 for p in parts):
        raise typer.BadParameter(f"expected R,G,B with values 0-255, got {text!r}")
    return tuple(parts)


@extract_app.command("motion")
def extract_motion_cmd(
    paths: List[Path] = typer.Argument(..., help="videos, BVH files or folders of them"),
    out: Path = typer.Option(Path("clips"), "--out", help="a .npz file (one input) or a folder (one .npz per input)"),
    fps: float = typer.Option(30.0, min=1.0, help="clip frame rate (BVH is resampled to it)"),
    smoothing: float = typer.Option(0.5, min=0.0, max=1.0, help="One Euro jitter smoothing for video: 0 off, 1 strong"),
) -> None:
    """Body pose keypoints (33 BlazePose landmarks, metres) from videos (mediapipe) or motion capture (BVH)."""
    from genseq.motion.stages import extract_motion

    with tqdm(unit="frame", desc="extract", disable=None) as bar:
        written = extract_motion(paths, out, fps, smoothing, advance_to(bar))
    for path in written:
        say(f"wrote {path}")


@train_app.command("dance")
def train_dance_cmd(
    data: Path = typer.Option(..., help="folder of videos, BVH files or extracted .npz clips"),
    out: Path = typer.Option(..., "--out", help="run folder (best.pt, last.pt); an existing run there is resumed"),
    config: Optional[Path] = typer.Option(None, help="YAML config (default: configs/dance.yaml)"),
    cell: Optional[str] = typer.Option(None, help="override the config's cell: lstm, gru or rnn"),
    epochs: Optional[int] = typer.Option(None),
    max_minutes: Optional[float] = typer.Option(None),
    seed: Optional[int] = typer.Option(None),
    teacher_forcing: bool = typer.Option(False, help="plain teacher forcing (no auto-conditioning): the freezing baseline"),
    device: Optional[str] = typer.Option(None),
) -> None:
    """Train the stacked model with a mixture-density head on dance clips, with auto-conditioning."""
    from genseq.core.config import resolve_dance_config
    from genseq.motion.stages import train_dance

    overrides = {"cell": cell, "epochs": epochs, "max_minutes": max_minutes, "seed": seed}
    if teacher_forcing:
        overrides["condition_self_steps"] = 0
    dance_config = resolve_dance_config(config, overrides)
    run_training(lambda: train_dance(data, out, dance_config, device), out)


@generate_app.command("dance")
def generate_dance_cmd(
    out: Path = typer.Option(Path("dance.mp4"), "--out", help="skeleton video (.mp4)"),
    checkpoint: Optional[Path] = typer.Option(None, help="checkpoint or run folder (default: the bundled model)"),
    primer: Optional[Path] = typer.Option(None, help="a video, BVH or .npz clip to continue"),
    seconds: float = typer.Option(20.0, min=0.1),
    seed: int = typer.Option(0),
    temperature: float = typer.Option(1.0, min=0.0),
    num_outputs: int = typer.Option(1, min=1),
    keypoints_out: Optional[Path] = typer.Option(None, help="also save the clip as .npz (positions, valid, fps, joint_names)"),
    size: int = typer.Option(512, min=16),
    camera: str = typer.Option("follow", help="follow the dancer or fixed"),
    device: Optional[str] = typer.Option(None),
) -> None:
    """New dance motion, optionally continuing your own clip, as a skeleton video that plays in browsers."""
    from genseq.motion.stages import DanceGenerateOptions, default_dance_checkpoint, generate_dance, write_dance_outputs

    options = DanceGenerateOptions(primer, seconds, seed, temperature, num_outputs)
    clips = generate_dance(checkpoint or default_dance_checkpoint(), options, device)
    for path in write_dance_outputs(clips, out, keypoints_out, {"size": size, "camera": camera}):
        say(f"wrote {path}")


@render_app.command("dance")
def render_dance_cmd(
    clip: Path = typer.Argument(..., help="a .npz clip or a BVH file"),
    out: Optional[Path] = typer.Option(None, "--out", help="H.264 MP4 (default: beside the clip)"),
    size: int = typer.Option(512, min=16),
    camera: str = typer.Option("follow", help="follow the dancer or fixed"),
    background: str = typer.Option("20,20,24", help="R,G,B"),
    side_by_side: Optional[Path] = typer.Option(None, help="the source video, shown left of the skeleton"),
    audio: Optional[Path] = typer.Option(None, help="a sound file to mux in"),
    preview: Optional[Path] = typer.Option(None, help="also a .gif or .png contact-sheet preview"),
) -> None:
    """A skeleton video (H.264 MP4 that plays in browsers) and an optional preview."""
    from genseq.motion.render import render_clip_file

    options = {"size": size, "camera": camera, "background": parse_rgb(background),
               "side_by_side_video": side_by_side, "audio": audio}
    for path in render_clip_file(clip, out, preview, **options):
        say(f"wrote {path}")


@app.command("demo")
def demo_cmd(out: Path = typer.Option(Path("generated"), "--out")) -> None:
    """The main job on the bundled models: new melodies and piano rolls (MIDI, WAV, PNG) and a dance (MP4, PNG)."""
    from genseq.model.sample import SamplingOptions
    from genseq.motion.render import render_preview
    from genseq.motion.stages import DanceGenerateOptions, default_dance_checkpoint, generate_dance, write_dance_outputs
    from genseq.music.stages import GenerateOptions, default_checkpoint, generate_and_render

    for representation in ("melody", "pianoroll"):
        options = GenerateOptions(bars=16, num_outputs=2, sampling=SamplingOptions(temperature=0.9, seed=0))
        for path in generate_and_render(default_checkpoint(representation), out / representation, options, True, True, True):
            say(f"wrote {path}")
    clips = generate_dance(default_dance_checkpoint(), DanceGenerateOptions(seconds=15.0, temperature=0.75))
    for path in write_dance_outputs(clips, out / "dance" / "dance.mp4", None) + [render_preview(clips[0], out / "dance" / "dance.png")]:
        say(f"wrote {path}")


def register_service_commands() -> None:
    """`genseq server`, `serve` and `batch` live in genseq/service (operations, not media)."""
    from genseq.service.commands import register

    register(app)


register_service_commands()


def main() -> None:
    """Run the CLI; every failure ends as one line on stderr (genseq/cli_errors.py) and an exit code."""
    from genseq.cli_errors import quiet_signals, report

    quiet_signals()
    try:
        # without standalone mode, click returns typer.Exit's code instead of exiting
        code = app(standalone_mode=False)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - the one place that turns failures into the contract
        code = report(exc)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
