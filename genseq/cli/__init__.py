"""The `genseq` command line: a thin layer over the genseq library (the Prefect flows and batch call the
same functions). genseq/cli/app.py holds the apps and the helpers; media.py, live.py and service.py add
their commands to them; every failure ends as one line on stderr (errors.py) and an exit code."""

from __future__ import annotations

import sys

# each module adds its commands to the app, in the order `genseq --help` lists them
from genseq.cli import media  # noqa: F401, I001
from genseq.cli import live  # noqa: F401, I001
from genseq.cli import service  # noqa: F401, I001
from genseq.cli.app import app
from genseq.core.resources import apply_thread_budget


def main() -> None:
    """Run the CLI; every failure ends as one line on stderr (genseq/cli/errors.py) and an exit code."""
    from genseq.cli.errors import quiet_signals, report

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
