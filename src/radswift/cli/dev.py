"""`radswift dev ...`: developer conveniences (a local Swift for tests and demos)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Developer tools: a real local Swift for tests and demos.", no_args_is_help=True)
