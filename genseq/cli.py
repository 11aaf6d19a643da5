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
extract_app = typer.Typer(no_args_is_help=True, help="Turn MIDI files (and later audio, video, BVH) into datasets.")
train_app = typer.Typer(no_args_is_help=True, help="Train a stacked recurrent model.")
generate_app = typer.Typer(no_args_is_help=True, help="Sample new sequences from a trained model.")
render_app = typer.Typer(no_args_is_help=True, help="Render sequences to audio and pictures.")
app.add_typer(extract_app, name="extract")
app.add_typer(train_app, name="train")
app.add_typer(generate_app, name="generate")
app.add_typer(render_app, name="render")


def say(message: str) -> None:
    typer.echo(message, err=True)


@extract_app.command("music")
def extract_music_cmd(
    paths: List[Path] = typer.Argument(..., help="MIDI files or folders (searched recursively)"),
    out: Path = typer.Option(..., "--out", help="dataset file to write (.npz)"),
    steps_per_quarter: int = typer.Option(4, help="grid steps per quarter note"),
    program: List[int] = typer.Option([], help="keep only instruments with this General MIDI program (repeatable)"),
    name: List[str] = typer.Option([], help="keep only instruments whose name contains this (repeatable)"),
    index: List[int] = typer.Option([], help="keep only the instrument at this index in the file (repeatable)"),
    include_drums: bool = typer.Option(False, help="keep drum tracks too"),
    quiet: bool = typer.Option(False, help="print only the summary"),
) -> None:
    """MIDI files to a note-sequence dataset, saying per file what was kept and why anything was dropped."""
    from genseq.music.midi import InstrumentSelection, find_midi_files
    from genseq.music.stages import extract_music

    selection = InstrumentSelection(program, name, index, include_drums)
    total = len(find_midi_files(paths))
    with tqdm(total=total, unit="file", desc="extract", disable=True if quiet else None) as bar:
        report = extract_music(paths, out, steps_per_quarter, selection, on_file=lambda n: bar.update(n - bar.n))
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
    try:
        result = train_music(data, out, music_config, device)
    except KeyboardInterrupt:
        say(f"interrupted: finished epochs are saved in {out}; run the same command to resume")
        raise typer.Exit(130)
    say(f"{result.stopped_because}; best validation loss {result.best_valid_loss:.4f} after {result.epochs_run} epochs "
        f"({result.train_seconds:.0f} s, {result.params} parameters); best checkpoint {result.best_checkpoint}")


@app.command("eval")
def eval_cmd(
    checkpoint: Path = typer.Option(..., help="checkpoint file or run folder (its best checkpoint)"),
    data: Path = typer.Option(..., help="MIDI folder (its test/ subfolder when it has one) or extracted .npz"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    device: Optional[str] = typer.Option(None),
) -> None:
    """Negative log-likelihood per frame (and per event, accuracy for melodies) on held-out data."""
    from genseq.music.stages import evaluate_music

    metrics = evaluate_music(checkpoint, data, device)
    if as_json:
        typer.echo(json.dumps(metrics))
    else:
        for key, value in metrics.items():
            typer.echo(f"{key}: {value}")


@generate_app.command("music")
def generate_music_cmd(
    out: Path = typer.Option(Path("generated"), "--out", help="folder for the new MIDI (and WAV) files"),
    checkpoint: Optional[Path] = typer.Option(None, help="checkpoint or run folder (default: the bundled model)"),
    representation: str = typer.Option("melody", help="which bundled model when no --checkpoint: melody or pianoroll"),
    primer: Optional[Path] = typer.Option(None, help="a MIDI file to continue"),
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


@app.command("demo")
def demo_cmd(out: Path = typer.Option(Path("generated"), "--out")) -> None:
    """The main job on the bundled models: new melodies and piano rolls as MIDI, WAV and PNG."""
    from genseq.model.sample import SamplingOptions
    from genseq.music.stages import GenerateOptions, default_checkpoint, generate_and_render

    for representation in ("melody", "pianoroll"):
        options = GenerateOptions(bars=16, num_outputs=2, sampling=SamplingOptions(temperature=0.9, seed=0))
        for path in generate_and_render(default_checkpoint(representation), out / representation, options, True, True, True):
            say(f"wrote {path}")


def main() -> None:
    try:
        app(standalone_mode=False)
    except GenseqError as exc:
        print(f"genseq: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("genseq: interrupted", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors and aborts
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
