"""`genseq extract`, `train`, `eval`, `generate`, `render` and `demo`: thin commands over the genseq
library (the flows and batch call the same functions). Every flag is a field of the operation's options
model in genseq/core/options.py, which holds its default and bounds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from tqdm.auto import tqdm

from genseq.cli.app import (advance_to, as_text, eval_app, extract_app, generate_app, option_for, print_metrics,
                            render_app, say, say_written, train_app, app)
from genseq.core.options import (EvalDanceOptions, EvalOptions, ExtractMotionOptions, ExtractMusicOptions,
                                 GenerateDanceOptions, GenerateMusicOptions, RenderDanceOptions, RenderMusicOptions,
                                 MusicVideoOptions, TrainDanceOptions, TrainMusicOptions, TrainOptions)
from genseq.core.resources import set_max_memory


def run_training(domain, options: TrainOptions) -> None:
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


@extract_app.command("music")
def extract_music_cmd(
    paths: List[Path] = option_for(ExtractMusicOptions, "paths", argument=True),
    out: Path = option_for(ExtractMusicOptions, "out", "--out"),
    write_midi: bool = option_for(ExtractMusicOptions, "write_midi"),
    corpus: Optional[str] = option_for(ExtractMusicOptions, "corpus"),
    voices: str = option_for(ExtractMusicOptions, "voices"),
    steps_per_quarter: int = option_for(ExtractMusicOptions, "steps_per_quarter"),
    program: List[int] = option_for(ExtractMusicOptions, "program"),
    name: List[str] = option_for(ExtractMusicOptions, "name"),
    index: List[int] = option_for(ExtractMusicOptions, "index"),
    include_drums: bool = option_for(ExtractMusicOptions, "include_drums"),
    quiet: bool = typer.Option(False, help="print only the summary"),
) -> None:
    """MIDI files and recordings (monophonic transcription on the recording's own tempo grid) to a
    note-sequence dataset, saying per file what was kept and why anything was dropped."""
    from genseq.music.extract import extract_corpus, extract_music

    options = ExtractMusicOptions.build(paths=[str(p) for p in paths or []], out=str(out), write_midi=write_midi, corpus=corpus,
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


@extract_app.command("motion")
def extract_motion_cmd(
    paths: List[Path] = option_for(ExtractMotionOptions, "paths", argument=True),
    out: Path = option_for(ExtractMotionOptions, "out", "--out"),
    fps: float = option_for(ExtractMotionOptions, "fps"),
    smoothing: float = option_for(ExtractMotionOptions, "smoothing"),
) -> None:
    """Body pose keypoints (33 BlazePose landmarks, metres) from videos (mediapipe) or motion capture (BVH)."""
    from genseq.motion.extract import extract_motion

    options = ExtractMotionOptions.build(paths=[str(p) for p in paths or []], out=str(out), fps=fps, smoothing=smoothing)
    with tqdm(unit="frame", desc="extract", disable=None) as bar:
        say_written(extract_motion(options.paths, options.out, options.fps, options.smoothing, advance_to(bar)))


# ---------------------------------------------------------------------------------------------
# Train


@train_app.command("music")
def train_music_cmd(
    data: Path = option_for(TrainMusicOptions, "data", "--data"),
    out: Path = option_for(TrainMusicOptions, "out", "--out"),
    representation: Optional[str] = option_for(TrainMusicOptions, "representation"),
    config: Optional[Path] = option_for(TrainMusicOptions, "config"),
    set_: List[str] = option_for(TrainMusicOptions, "set", "--set"),
    steps_per_quarter: Optional[int] = option_for(TrainMusicOptions, "steps_per_quarter"),
    cell: Optional[str] = option_for(TrainMusicOptions, "cell"),
    epochs: Optional[int] = option_for(TrainMusicOptions, "epochs"),
    max_minutes: Optional[float] = option_for(TrainMusicOptions, "max_minutes"),
    seed: Optional[int] = option_for(TrainMusicOptions, "seed"),
    max_memory: Optional[str] = option_for(TrainMusicOptions, "max_memory"),
    device: Optional[str] = option_for(TrainMusicOptions, "device"),
) -> None:
    """Train a melody or piano-roll model; validates each epoch, keeps the best, stops early, resumes."""
    from genseq.music.domain import MUSIC

    run_training(MUSIC, TrainMusicOptions.build(
        data=str(data), out=str(out), representation=representation, config=as_text(config), set=set_ or [],
        steps_per_quarter=steps_per_quarter, cell=cell, epochs=epochs, max_minutes=max_minutes, seed=seed,
        max_memory=max_memory, device=device))


@train_app.command("dance")
def train_dance_cmd(
    data: Path = option_for(TrainDanceOptions, "data", "--data"),
    out: Path = option_for(TrainDanceOptions, "out", "--out"),
    config: Optional[Path] = option_for(TrainDanceOptions, "config"),
    set_: List[str] = option_for(TrainDanceOptions, "set", "--set"),
    cell: Optional[str] = option_for(TrainDanceOptions, "cell"),
    epochs: Optional[int] = option_for(TrainDanceOptions, "epochs"),
    max_minutes: Optional[float] = option_for(TrainDanceOptions, "max_minutes"),
    seed: Optional[int] = option_for(TrainDanceOptions, "seed"),
    teacher_forcing: bool = option_for(TrainDanceOptions, "teacher_forcing"),
    max_memory: Optional[str] = option_for(TrainDanceOptions, "max_memory"),
    device: Optional[str] = option_for(TrainDanceOptions, "device"),
) -> None:
    """Train the stacked model with a mixture-density head on dance clips, with auto-conditioning."""
    from genseq.motion.domain import DANCE

    run_training(DANCE, TrainDanceOptions.build(
        data=str(data), out=str(out), config=as_text(config), set=set_ or [], cell=cell, epochs=epochs,
        max_minutes=max_minutes, seed=seed, teacher_forcing=teacher_forcing, max_memory=max_memory, device=device))


# ---------------------------------------------------------------------------------------------
# Eval


@eval_app.callback(invoke_without_command=True)
def eval_cmd(
    ctx: typer.Context, checkpoint: Optional[Path] = typer.Option(None, help=EvalOptions.model_fields["checkpoint"].description),
    data: Optional[Path] = typer.Option(None, help=EvalOptions.model_fields["data"].description),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    device: Optional[str] = option_for(EvalOptions, "device"),
) -> None:
    """Evaluate a checkpoint on held-out data (music: NLL per frame, per event, accuracy; dance: as eval dance)."""
    if ctx.invoked_subcommand is not None:
        return
    options = EvalOptions.build(checkpoint=as_text(checkpoint), data=as_text(data), device=device)
    from genseq.model.checkpoint import load_checkpoint

    if load_checkpoint(options.checkpoint).get("kind") == "dance":
        from genseq.motion.evaluate import evaluate_dance

        return print_metrics(evaluate_dance(EvalDanceOptions.build(**options.model_dump())), as_json)
    from genseq.music.evaluate import evaluate_music

    print_metrics(evaluate_music(options.checkpoint, options.data, options.device), as_json)


@eval_app.command("dance")
def eval_dance_cmd(
    checkpoint: Path = option_for(EvalDanceOptions, "checkpoint", "--checkpoint"),
    data: Path = option_for(EvalDanceOptions, "data", "--data"),
    as_json: bool = typer.Option(False, "--json"), seconds: float = option_for(EvalDanceOptions, "seconds"),
    num_samples: int = option_for(EvalDanceOptions, "num_samples"),
    temperature: float = option_for(EvalDanceOptions, "temperature"),
    variety: float = option_for(EvalDanceOptions, "variety"),
    top_k: Optional[int] = option_for(EvalDanceOptions, "top_k"),
    top_p: Optional[float] = option_for(EvalDanceOptions, "top_p"), seed: int = option_for(EvalDanceOptions, "seed"),
    device: Optional[str] = option_for(EvalDanceOptions, "device"),
) -> None:
    """Generated motion against real clips: freeze detector, kinetic Frechet distance, diversity, bone and foot errors."""
    from genseq.motion.evaluate import evaluate_dance

    options = EvalDanceOptions.build(checkpoint=str(checkpoint), data=str(data), seconds=seconds, num_samples=num_samples,
                      temperature=temperature, variety=variety, top_k=top_k, top_p=top_p, seed=seed, device=device)
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


@generate_app.command("music")
def generate_music_cmd(
    out: Path = option_for(GenerateMusicOptions, "out", "--out"),
    checkpoint: Optional[Path] = option_for(GenerateMusicOptions, "checkpoint"),
    representation: str = option_for(GenerateMusicOptions, "representation"),
    primer: Optional[Path] = option_for(GenerateMusicOptions, "primer"),
    include_primer: bool = option_for(GenerateMusicOptions, "include_primer"),
    harmonize: Optional[Path] = option_for(GenerateMusicOptions, "harmonize"),
    temperature: float = option_for(GenerateMusicOptions, "temperature"),
    top_k: Optional[int] = option_for(GenerateMusicOptions, "top_k"),
    top_p: Optional[float] = option_for(GenerateMusicOptions, "top_p"),
    seed: int = option_for(GenerateMusicOptions, "seed"),
    bars: Optional[int] = option_for(GenerateMusicOptions, "bars"),
    seconds: Optional[float] = option_for(GenerateMusicOptions, "seconds"),
    num_outputs: int = option_for(GenerateMusicOptions, "num_outputs"),
    tempo: Optional[float] = option_for(GenerateMusicOptions, "tempo"),
    program: Optional[int] = option_for(GenerateMusicOptions, "program"),
    wav: bool = option_for(GenerateMusicOptions, "wav"), png: bool = option_for(GenerateMusicOptions, "png"),
    allow_sine: bool = option_for(GenerateMusicOptions, "allow_sine"),
    device: Optional[str] = option_for(GenerateMusicOptions, "device"),
) -> None:
    """New melodies or piano rolls, optionally continuing your own MIDI phrase or recording."""
    from genseq.music.generate import generate_and_render

    options = GenerateMusicOptions.build(out=str(out), checkpoint=as_text(checkpoint), representation=representation, primer=as_text(primer),
                      include_primer=include_primer, harmonize=as_text(harmonize), temperature=temperature, top_k=top_k,
                      top_p=top_p, seed=seed, bars=bars, seconds=seconds, num_outputs=num_outputs, tempo=tempo,
                      program=program, wav=wav, png=png, allow_sine=allow_sine, device=device)
    with tqdm(unit="step", desc="sample", disable=None) as bar:
        say_written(generate_and_render(options, advance_to(bar)))


@generate_app.command("dance")
def generate_dance_cmd(
    out: Path = option_for(GenerateDanceOptions, "out", "--out"),
    checkpoint: Optional[Path] = option_for(GenerateDanceOptions, "checkpoint"),
    primer: Optional[Path] = option_for(GenerateDanceOptions, "primer"),
    seconds: float = option_for(GenerateDanceOptions, "seconds"), seed: int = option_for(GenerateDanceOptions, "seed"),
    temperature: float = option_for(GenerateDanceOptions, "temperature"),
    top_k: Optional[int] = option_for(GenerateDanceOptions, "top_k"),
    top_p: Optional[float] = option_for(GenerateDanceOptions, "top_p"),
    num_outputs: int = option_for(GenerateDanceOptions, "num_outputs"),
    keypoints_out: Optional[Path] = option_for(GenerateDanceOptions, "keypoints_out"),
    size: str = option_for(GenerateDanceOptions, "size"),
    fps: Optional[int] = option_for(GenerateDanceOptions, "fps"),
    theme: str = option_for(GenerateDanceOptions, "theme"),
    background: Optional[str] = option_for(GenerateDanceOptions, "background"),
    cover: bool = option_for(GenerateDanceOptions, "cover"), camera: str = option_for(GenerateDanceOptions, "camera"),
    preview: bool = option_for(GenerateDanceOptions, "preview"),
    device: Optional[str] = option_for(GenerateDanceOptions, "device"),
    style: str = option_for(GenerateDanceOptions, "style"),
    music: Optional[Path] = option_for(GenerateDanceOptions, "music"),
    whole_song: bool = option_for(GenerateDanceOptions, "whole_song"),
    dance_style: Optional[str] = option_for(GenerateDanceOptions, "dance_style"),
    variety: float = option_for(GenerateDanceOptions, "variety"),
) -> None:
    """New dance motion, optionally continuing your own clip or dancing to a song, as a video that plays in browsers."""
    from genseq.compose.dance_to_music import make_dance

    options = GenerateDanceOptions.build(out=str(out), checkpoint=as_text(checkpoint), primer=as_text(primer), seconds=seconds, seed=seed,
                      temperature=temperature, top_k=top_k, top_p=top_p, num_outputs=num_outputs,
                      keypoints_out=as_text(keypoints_out), size=size, camera=camera, preview=preview, device=device,
                      style=style, music=as_text(music), whole_song=whole_song, fps=fps, theme=theme, background=background, cover=cover,
                      dance_style=dance_style, variety=variety)
    with tqdm(unit="frame", desc="sample", disable=None) as bar:
        say_written(make_dance(options, advance_to(bar)))


# ---------------------------------------------------------------------------------------------
# Render


@render_app.command("music")
def render_music_cmd(
    midi: Path = option_for(RenderMusicOptions, "midi", argument=True),
    wav: Optional[Path] = option_for(RenderMusicOptions, "wav"),
    png: Optional[Path] = option_for(RenderMusicOptions, "png"),
    allow_sine: bool = option_for(RenderMusicOptions, "allow_sine"),
) -> None:
    """A WAV through fluidsynth (General MIDI soundfont bundled with pretty_midi) and a piano-roll PNG."""
    from genseq.music.render import render_music

    say_written(render_music(RenderMusicOptions.build(midi=str(midi), wav=as_text(wav), png=as_text(png), allow_sine=allow_sine)))


@render_app.command("dance")
def render_dance_cmd(
    clip: Path = option_for(RenderDanceOptions, "clip", argument=True),
    out: Optional[Path] = option_for(RenderDanceOptions, "out", "--out"),
    size: str = option_for(RenderDanceOptions, "size"), camera: str = option_for(RenderDanceOptions, "camera"),
    background: Optional[str] = option_for(RenderDanceOptions, "background"),
    side_by_side: Optional[Path] = option_for(RenderDanceOptions, "side_by_side"),
    audio: Optional[Path] = option_for(RenderDanceOptions, "audio"),
    preview: Optional[Path] = option_for(RenderDanceOptions, "preview"),
    style: str = option_for(RenderDanceOptions, "style"),
    fps: Optional[int] = option_for(RenderDanceOptions, "fps"), theme: str = option_for(RenderDanceOptions, "theme"),
    cover: bool = option_for(RenderDanceOptions, "cover"),
) -> None:
    """A dance video (H.264 MP4 that plays in browsers; a shaded figure or the stick skeleton) and an optional preview."""
    from genseq.motion.render import render_dance

    say_written(render_dance(RenderDanceOptions.build(clip=str(clip), out=as_text(out), size=size, camera=camera,
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
        options = GenerateMusicOptions.build(out=str(out / representation), representation=representation, bars=16,
                                                  num_outputs=2, allow_sine=True)
        say_written(generate_and_render(options))
    say_written(make_dance(GenerateDanceOptions.build(out=str(out / "dance" / "dance.mp4"), seconds=15.0)))
    say_written(make_music_video(MusicVideoOptions(out=str(out / "music-video"))))
