"""`radswift`: the command line. Each command group lives in its own module, loaded lazily.

Importing every group at start costs about half a second of CPU (the services pull in
FastAPI, the pfioh client httpx, the dev tools a Keystone server...), which `radswift cp`
would pay on every run. So the top-level group knows each command only by a short help
string and where it lives ("module:attribute"), and imports a module the first time its
command is resolved: `radswift cp` imports the transfer commands and nothing else, and
`radswift --help` imports nothing at all.

A new command group is one entry in COMMANDS: the module's Typer app (a group) or its
`register(app)` function (plain commands), and the line shown by `radswift --help`.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from typing import Any

import typer
from typer._click.core import Command  # typer vendors click; its Command type
from typer.core import TyperGroup

from radswift import __version__
from radswift.cli.app import run_app


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a command lives and what `radswift --help` says about it."""

    target: str
    """"module:app" (a typer.Typer, the command is a group) or "module:register" (a
    function that adds plain commands to an app; the one of this name is taken)."""
    help: str


COMMANDS: dict[str, LazyCommand] = {
    "cp": LazyCommand(
        "radswift.cli.transfer:register",
        "Copy a local tree or file to a store, or objects under a prefix to a local path.",
    ),
    "ls": LazyCommand(
        "radswift.cli.transfer:register",
        "List objects under a prefix: size, MD5 (ETag), name; large objects are marked.",
    ),
    "rm": LazyCommand(
        "radswift.cli.transfer:register",
        "Delete an object, everything under a prefix (-r), or a whole key (-r, no prefix).",
    ),
    "push": LazyCommand(
        "radswift.cli.ioh:register",
        "Upload DIR to KEY's input/ through pfioh, as a tar streamed on the fly.",
    ),
    "pull": LazyCommand(
        "radswift.cli.ioh:register",
        "Download KEY's output/ through pfioh into DIR, unpacking the stream as it arrives.",
    ),
    "publish": LazyCommand(
        "radswift.cli.publish:app",
        "The publisher: fetch a job's input before, publish its output after the processor.",
    ),
    "job": LazyCommand(
        "radswift.cli.job:app", "Jobs through pman (submit, status, logs...), or their manifests."
    ),
    "serve": LazyCommand("radswift.cli.serve:app", "Run radswift's services."),
    "dev": LazyCommand(
        "radswift.cli.dev:app", "Developer tools: a real local Swift for tests and demos."
    ),
}


def load_command(name: str, spec: LazyCommand) -> Command:
    """Import the module behind `name` and build its click command."""
    module_name, _, attribute = spec.target.partition(":")
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        return typer.main.get_group(target)  # a group even if it has one command
    holder = typer.Typer(rich_markup_mode=None)
    target(holder)
    command = typer.main.get_group(holder).commands.get(name)
    if command is None:
        raise LookupError(f"{spec.target} did not register the command {name!r}")
    return command


class LazyGroup(TyperGroup):
    """The top-level group: commands in COMMANDS are imported on first use."""

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Command | None:  # type: ignore[override]
        spec = COMMANDS.get(cmd_name)
        if spec is None or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        command = load_command(cmd_name, spec)
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: typer.Context, formatter: Any) -> None:  # type: ignore[override]
        """The command list from COMMANDS' help strings: listing imports nothing."""
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            spec = COMMANDS.get(name)
            if spec is not None and name not in self.commands:
                rows.append((name, spec.help))
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    name="radswift",
    cls=LazyGroup,
    help="Move radiology data between your disk, OpenStack Swift and image-processing jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain help: rich is imported only to draw a progress bar
)


@app.callback()
def _root() -> None:
    """Makes `app` a group (commands besides `version` are loaded lazily)."""


@app.command()
def version() -> None:
    """Print radswift's version."""
    typer.echo(__version__)


def main() -> None:
    sys.exit(run_app(app))
