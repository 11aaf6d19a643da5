"""The Typer apps of the `genseq` command line and the helpers its commands share. Every flag is made
by option_for from a field of the operation's options model (genseq/core/options.py)."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Optional

import typer
from tqdm.auto import tqdm

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Generative music and motion sequences.")
extract_app = typer.Typer(no_args_is_help=True, help="Turn MIDI files into note datasets, videos and BVH files into motion clips.")
train_app = typer.Typer(no_args_is_help=True, help="Train a stacked recurrent model.")
generate_app = typer.Typer(no_args_is_help=True, help="Sample new sequences from a trained model.")
render_app = typer.Typer(no_args_is_help=True, help="Render sequences to audio, pictures and video.")
eval_app = typer.Typer(help="Evaluate a trained model on held-out data, or transcriptions against reference MIDI.")
stream_app = typer.Typer(no_args_is_help=True, help="Play new music or a dance without end, in real time.")
for sub_app, name in ((extract_app, "extract"), (train_app, "train"), (generate_app, "generate"), (render_app, "render"),
                      (eval_app, "eval"), (stream_app, "stream")):
    app.add_typer(sub_app, name=name)


def option_for(model: type, name: str, *declarations: str, argument: bool = False):
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


def on_termination(stop) -> None:
    """SIGTERM and SIGHUP call stop(signum, frame), as Ctrl-C would end the command."""
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
