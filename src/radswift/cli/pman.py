"""`pman`: the job service under its legacy name, with the legacy flags.

The same command as `radswift serve man`; the original pman's flags are accepted (see
its help).
"""

from __future__ import annotations

import sys

import typer

from radswift.cli.app import run_app
from radswift.cli.man import MAN_HELP, man

app = typer.Typer(name="pman", add_completion=False, pretty_exceptions_enable=False)
app.command(help=MAN_HELP)(man)


def main() -> None:
    sys.exit(run_app(app))
