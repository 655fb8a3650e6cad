"""`pfioh`: the file IO service under its legacy name, with the legacy flags.

`pfioh --forever --httpResponse --swift-storage --createDirsAsNeeded` works as it did;
it is the same command as `radswift serve ioh`.
"""

from __future__ import annotations

import sys

import typer

from radswift.cli.app import run_app
from radswift.cli.serve import IOH_HELP, ioh

app = typer.Typer(
    name="pfioh", add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None
)
app.command(help=IOH_HELP)(ioh)


def main() -> None:
    sys.exit(run_app(app))
