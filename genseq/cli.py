"""The `genseq` command line: a thin layer over the genseq library (the Prefect flows and batch call
the same functions). Every flag maps one to one onto a field of the operation's options model in
genseq/core/options.py, which holds its default and bounds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from tqdm.auto import tqdm

from genseq.core import options as opts
from genseq.core.resources import apply_thread_budget, set_max_memory

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


def field(model: type, name: str, *declarations: str, argument: bool = False):
    """A typer option (or argument) for one field of an options model: its default and help come from
    the model; its bounds are checked when the model is built (Options.build)."""
    info = model.model_fields[name]
    default = ... if info.is_required() else info.get_default(call_default_factory=True)
    if isinstance(default, list) and not default:
        default = None  # typer's "not given" for repeatable options
    if argument:
        return typer.Argument(default, help=info.description, show_default=False)
    return typer.Option(default, *declarations, help=info.description)


def say(message: str) -> None:
    typer.echo(message, err=True)


def advance_to(bar: tqdm):
    """A progress(done, total) callback that moves a progress bar (the total may grow as it goes)."""
    def advance(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return advance


def as_text(path: Optional[Path]) -> Optional[str]:
    return None if path is None else str(path)


def print_metrics(metrics: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(metrics))
    else:
        for key, value in metrics.items():
            typer.echo(f"{key}: {value}")


def say_written(paths) -> None:
    for path in paths:
        say(f"wrote {path}")


def run_training(domain, options: opts.TrainOptions) -> None:
    """Resolve the run's config and train (train_domain says what trains once every check has passed);
    then say how it ended. Ctrl-C keeps the finished epochs and exits 130."""
    from genseq.core.domain import resolve_run_config
    from genseq.model.train import train_domain

    set_max_memory(options.max_memory)
    config = resolve_run_config(domain, options.config, options.config_sets())
    try:
        result = train_domain(domain, options.data, options.out, config, options.device)
    except KeyboardInterrupt:
        say(f"interrupted: finished epochs are saved in {options.out}; run the same command to resume")
        raise typer.Exit(130)
    say(f"{result.stopped_because}; best validation loss {result.best_valid_loss:.4f} after {result.epochs_run} epochs "
        f"({result.train_seconds:.0f} s, {result.params} parameters); best checkpoint {result.best_checkpoint}")


# ---------------------------------------------------------------------------------------------
# Extract

M = opts.ExtractMusicOptions


@extract_app.command("music")
def extract_music_cmd(
    paths: List[Path] = field(M, "paths", argument=True), out: Path = field(M, "out", "--out"),
    write_midi: bool = field(M, "write_midi"), corpus: Optional[str] = field(M, "corpus"), voices: str = field(M, "voices"),
    steps_per_quarter: int = field(M, "steps_per_quarter"), program: List[int] = field(M, "program"),
    name: List[str] = field(M, "name"), index: List[int] = field(M, "index"),
    include_drums: bool = field(M, "include_drums"), quiet: bool = typer.Option(False, help="print only the summary"),
) -> None:
    """MIDI files and recordings (monophonic transcription on the recording's own tempo grid) to a
    note-sequence dataset, saying per file what was kept and why anything was dropped."""
    from genseq.music.extract import extract_corpus, extract_music

    options = opts.ExtractMusicOptions.build(paths=[str(p) for p in paths or []], out=str(out), write_midi=write_midi, corpus=corpus,
                      voices=voices, steps_per_quarter=steps_per_quarter, program=program or [], name=name or [],
                      index=index or [], include_drums=include_drums)
    if options.corpus:
        with tqdm(unit="piece", desc=options.corpus, disable=True if quiet else None) as bar:
            count, written = extract_corpus(options, on_piece=lambda n, total: bar.update(n - bar.n))
        say(f"wrote {written}: {count} pieces of {options.corpus}")
        return
    with tqdm(unit="file", desc="extract", disable=True if quiet else None) as bar:
        report, written = extract_music(options, on_file=advance_to(bar))
    lines = report.lines()
    for line in lines if not quiet else lines[-1:]:
        say(line)
    say(f"wrote {written}")


M = opts.ExtractMotionOptions


@extract_app.command("motion")
def extract_motion_cmd(
    paths: List[Path] = field(M, "paths", argument=True), out: Path = field(M, "out", "--out"),
    fps: float = field(M, "fps"), smoothing: float = field(M, "smoothing"),
) -> None:
    """Body pose keypoints (33 BlazePose landmarks, metres) from videos (mediapipe) or motion capture (BVH)."""
    from genseq.motion.extract import extract_motion

    options = opts.ExtractMotionOptions.build(paths=[str(p) for p in paths or []], out=str(out), fps=fps, smoothing=smoothing)
    with tqdm(unit="frame", desc="extract", disable=None) as bar:
        say_written(extract_motion(options.paths, options.out, options.fps, options.smoothing, advance_to(bar)))


# ---------------------------------------------------------------------------------------------
# Train

M = opts.TrainMusicOptions


@train_app.command("music")
def train_music_cmd(
    data: Path = field(M, "data", "--data"), out: Path = field(M, "out", "--out"),
    representation: Optional[str] = field(M, "representation"), config: Optional[Path] = field(M, "config"),
    set_: List[str] = field(M, "set", "--set"), steps_per_quarter: Optional[int] = field(M, "steps_per_quarter"),
    cell: Optional[str] = field(M, "cell"), epochs: Optional[int] = field(M, "epochs"),
    max_minutes: Optional[float] = field(M, "max_minutes"), seed: Optional[int] = field(M, "seed"),
    max_memory: Optional[str] = field(M, "max_memory"), device: Optional[str] = field(M, "device"),
) -> None:
    """Train a melody or piano-roll model; validates each epoch, keeps the best, stops early, resumes."""
    from genseq.music.domain import MUSIC

    run_training(MUSIC, opts.TrainMusicOptions.build(
        data=str(data), out=str(out), representation=representation, config=as_text(config), set=set_ or [],
        steps_per_quarter=steps_per_quarter, cell=cell, epochs=epochs, max_minutes=max_minutes, seed=seed,
        max_memory=max_memory, device=device))


M = opts.TrainDanceOptions


@train_app.command("dance")
def train_dance_cmd(
    data: Path = field(M, "data", "--data"), out: Path = field(M, "out", "--out"), config: Optional[Path] = field(M, "config"),
    set_: List[str] = field(M, "set", "--set"), cell: Optional[str] = field(M, "cell"),
    epochs: Optional[int] = field(M, "epochs"), max_minutes: Optional[float] = field(M, "max_minutes"),
    seed: Optional[int] = field(M, "seed"), teacher_forcing: bool = field(M, "teacher_forcing"),
    max_memory: Optional[str] = field(M, "max_memory"), device: Optional[str] = field(M, "device"),
) -> None:
    """Train the stacked model with a mixture-density head on dance clips, with auto-conditioning."""
    from genseq.motion.domain import DANCE

    run_training(DANCE, opts.TrainDanceOptions.build(
        data=str(data), out=str(out), config=as_text(config), set=set_ or [], cell=cell, epochs=epochs,
        max_minutes=max_minutes, seed=seed, teacher_forcing=teacher_forcing, max_memory=max_memory, device=device))


# ---------------------------------------------------------------------------------------------
# Eval

M = opts.EvalOptions


@eval_app.callback(invoke_without_command=True)
def eval_cmd(
    ctx: typer.Context, checkpoint: Optional[Path] = typer.Option(None, help=M.model_fields["checkpoint"].description),
    data: Optional[Path] = typer.Option(None, help=M.model_fields["data"].description),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"), device: Optional[str] = field(M, "device"),
) -> None:
    """Evaluate a checkpoint on held-out data (music: NLL per frame, per event, accuracy; dance: as eval dance)."""
    if ctx.invoked_subcommand is not None:
        return
    options = opts.EvalOptions.build(checkpoint=as_text(checkpoint), data=as_text(data), device=device)
    from genseq.model.checkpoint import load_checkpoint

    if load_checkpoint(options.checkpoint).get("kind") == "dance":
        from genseq.motion.evaluate import evaluate_dance

        return print_metrics(evaluate_dance(opts.EvalDanceOptions.build(**options.model_dump())), as_json)
    from genseq.music.evaluate import evaluate_music

    print_metrics(evaluate_music(options.checkpoint, options.data, options.device), as_json)


M = opts.EvalDanceOptions


@eval_app.command("dance")
def eval_dance_cmd(
    checkpoint: Path = field(M, "checkpoint", "--checkpoint"), data: Path = field(M, "data", "--data"),
    as_json: bool = typer.Option(False, "--json"), seconds: float = field(M, "seconds"),
    num_samples: int = field(M, "num_samples"), temperature: float = field(M, "temperature"),
    top_k: Optional[int] = field(M, "top_k"), top_p: Optional[float] = field(M, "top_p"), seed: int = field(M, "seed"),
    device: Optional[str] = field(M, "device"),
) -> None:
    """Generated motion against real clips: freeze detector, kinetic Frechet distance, diversity, bone and foot errors."""
    from genseq.motion.evaluate import evaluate_dance

    options = opts.EvalDanceOptions.build(checkpoint=str(checkpoint), data=str(data), seconds=seconds, num_samples=num_samples,
                      temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, device=device)
    print_metrics(evaluate_dance(options), as_json)


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


@eval_app.command("samples")
def eval_samples_cmd(
    generated: Path = typer.Option(..., help="folder of generated MIDI files (or a .npz dataset)"),
    reference: Path = typer.Option(..., help="folder of real MIDI files to compare with (or a .npz dataset)"),
    bars: Optional[int] = typer.Option(None, min=1, help="compare only the first N bars of each piece"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Generated pieces against real ones, per statistic (notes per bar, silence, pitch-class entropy,
    scale consistency, intervals, leaps, range, rhythm entropy, groove, polyphony): real and generated
    mean ± sd, distance |Δmean| / sd_real and the overlap of the two distributions."""
    from genseq.music.sample_eval import evaluate_samples, summary_lines

    result = evaluate_samples(generated, reference, bars)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for line in summary_lines(result):
        typer.echo(line)


# ---------------------------------------------------------------------------------------------
# Generate

M = opts.GenerateMusicOptions


@generate_app.command("music")
def generate_music_cmd(
    out: Path = field(M, "out", "--out"), checkpoint: Optional[Path] = field(M, "checkpoint"),
    representation: str = field(M, "representation"), primer: Optional[Path] = field(M, "primer"),
    include_primer: bool = field(M, "include_primer"), harmonize: Optional[Path] = field(M, "harmonize"),
    temperature: float = field(M, "temperature"),
    top_k: Optional[int] = field(M, "top_k"), top_p: Optional[float] = field(M, "top_p"), seed: int = field(M, "seed"),
    bars: Optional[int] = field(M, "bars"), seconds: Optional[float] = field(M, "seconds"),
    num_outputs: int = field(M, "num_outputs"), tempo: Optional[float] = field(M, "tempo"),
    program: Optional[int] = field(M, "program"), wav: bool = field(M, "wav"), png: bool = field(M, "png"),
    allow_sine: bool = field(M, "allow_sine"), device: Optional[str] = field(M, "device"),
) -> None:
    """New melodies or piano rolls, optionally continuing your own MIDI phrase or recording."""
    from genseq.music.generate import generate_and_render

    options = opts.GenerateMusicOptions.build(out=str(out), checkpoint=as_text(checkpoint), representation=representation, primer=as_text(primer),
                      include_primer=include_primer, harmonize=as_text(harmonize), temperature=temperature, top_k=top_k,
                      top_p=top_p, seed=seed, bars=bars, seconds=seconds, num_outputs=num_outputs, tempo=tempo,
                      program=program, wav=wav, png=png, allow_sine=allow_sine, device=device)
    if options.harmonize is not None:
        from genseq.music.harmonize import harmonize_and_render as generate_and_render
    with tqdm(unit="step", desc="sample", disable=None) as bar:
        say_written(generate_and_render(options, advance_to(bar)))


M = opts.GenerateDanceOptions


@generate_app.command("dance")
def generate_dance_cmd(
    out: Path = field(M, "out", "--out"), checkpoint: Optional[Path] = field(M, "checkpoint"),
    primer: Optional[Path] = field(M, "primer"), seconds: float = field(M, "seconds"), seed: int = field(M, "seed"),
    temperature: float = field(M, "temperature"), top_k: Optional[int] = field(M, "top_k"),
    top_p: Optional[float] = field(M, "top_p"), num_outputs: int = field(M, "num_outputs"),
    keypoints_out: Optional[Path] = field(M, "keypoints_out"), size: str = field(M, "size"),
    fps: Optional[int] = field(M, "fps"), theme: str = field(M, "theme"), background: Optional[str] = field(M, "background"),
    cover: bool = field(M, "cover"), camera: str = field(M, "camera"), preview: bool = field(M, "preview"), device: Optional[str] = field(M, "device"),
    style: str = field(M, "style"), music: Optional[Path] = field(M, "music"), whole_song: bool = field(M, "whole_song"),
) -> None:
    """New dance motion, optionally continuing your own clip or dancing to a song, as a video that plays in browsers."""
    from genseq.compose.dance_to_music import make_dance

    options = opts.GenerateDanceOptions.build(out=str(out), checkpoint=as_text(checkpoint), primer=as_text(primer), seconds=seconds, seed=seed,
                      temperature=temperature, top_k=top_k, top_p=top_p, num_outputs=num_outputs,
                      keypoints_out=as_text(keypoints_out), size=size, camera=camera, preview=preview, device=device,
                      style=style, music=as_text(music), whole_song=whole_song, fps=fps, theme=theme, background=background, cover=cover)
    with tqdm(unit="frame", desc="sample", disable=None) as bar:
        say_written(make_dance(options, advance_to(bar)))


# ---------------------------------------------------------------------------------------------
# Render

M = opts.RenderMusicOptions


@render_app.command("music")
def render_music_cmd(
    midi: Path = field(M, "midi", argument=True), wav: Optional[Path] = field(M, "wav"),
    png: Optional[Path] = field(M, "png"), allow_sine: bool = field(M, "allow_sine"),
) -> None:
    """A WAV through fluidsynth (General MIDI soundfont bundled with pretty_midi) and a piano-roll PNG."""
    from genseq.music.render import render_music_options

    say_written(render_music_options(opts.RenderMusicOptions.build(midi=str(midi), wav=as_text(wav), png=as_text(png), allow_sine=allow_sine)))


M = opts.RenderDanceOptions


@render_app.command("dance")
def render_dance_cmd(
    clip: Path = field(M, "clip", argument=True), out: Optional[Path] = field(M, "out", "--out"),
    size: str = field(M, "size"), camera: str = field(M, "camera"), background: Optional[str] = field(M, "background"),
    side_by_side: Optional[Path] = field(M, "side_by_side"), audio: Optional[Path] = field(M, "audio"),
    preview: Optional[Path] = field(M, "preview"), style: str = field(M, "style"),
    fps: Optional[int] = field(M, "fps"), theme: str = field(M, "theme"), cover: bool = field(M, "cover"),
) -> None:
    """A dance video (H.264 MP4 that plays in browsers; a shaded figure or the stick skeleton) and an optional preview."""
    from genseq.motion.render import render_dance_options

    say_written(render_dance_options(opts.RenderDanceOptions.build(clip=str(clip), out=as_text(out), size=size, camera=camera,
                                              background=background, side_by_side=as_text(side_by_side),
                                              audio=as_text(audio), preview=as_text(preview), style=style, fps=fps, theme=theme, cover=cover)))


# ---------------------------------------------------------------------------------------------
# Demo


@app.command("demo")
def demo_cmd(out: Path = typer.Option(Path("generated"), "--out", help="folder for everything the demo writes")) -> None:
    """The main job on the bundled models, at the same defaults as `generate`: new melodies and piano rolls
    (MIDI, WAV, PNG), a dance (MP4, PNG), and last a music video: a new melody and a dance to it in one MP4."""
    from genseq.compose.dance_to_music import make_dance, make_music_video
    from genseq.music.generate import generate_and_render

    for representation in ("melody", "pianoroll"):
        options = opts.GenerateMusicOptions.build(out=str(out / representation), representation=representation, bars=16,
                                                  num_outputs=2, allow_sine=True)
        say_written(generate_and_render(options))
    say_written(make_dance(opts.GenerateDanceOptions.build(out=str(out / "dance" / "dance.mp4"), seconds=15.0)))
    say_written(make_music_video(out / "music-video", song=None))


# ---------------------------------------------------------------------------------------------
# Live


def register_live_commands() -> None:
    """`genseq live` and `genseq stream music` live in genseq/live (real-time play, not files)."""
    from genseq.live.cli_commands import register

    register(app, field)


register_live_commands()


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
        apply_thread_budget()  # torch and BLAS threads: this run's share of the cores (GENSEQ_THREADS overrides)
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
