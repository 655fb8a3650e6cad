"""`radswift`: the command line. Each command group lives in its own module."""

from __future__ import annotations

import sys

import typer

from radswift import __version__
from radswift.cli import dev
from radswift.cli.app import run_app

app = typer.Typer(
    name="radswift",
    help="Move radiology data between your disk, OpenStack Swift and image-processing jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(dev.app, name="dev")


@app.command()
def version() -> None:
    """Print radswift's version."""
    typer.echo(__version__)


def main() -> None:
    sys.exit(run_app(app))
