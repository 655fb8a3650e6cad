"""`radswift dev ...`: developer conveniences (a local Swift for tests and demos).

    eval "$(radswift dev swift start /tmp/swift)"   # exports ST_AUTH, ST_USER, ST_KEY
    radswift dev swift status /tmp/swift
    radswift dev swift stop /tmp/swift
    radswift dev clean [--dry-run]                   # remove the caches and demo/test images

Credentials go to stdout (so `eval` works), everything else to stderr. The Swift venv lives
in `$RADSWIFT_CACHE_DIR/swift-venv-<version>` (default `~/.cache/radswift`).
"""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import Annotated

import typer

from radswift.cli import dev_keystone
from radswift.dev.swift import DEFAULT_CACHE_DIR, LocalSwift, default_venv_dir
from radswift.errors import StorageUnavailable

app = typer.Typer(
    help="Developer tools: a real local Swift for tests and demos.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
swift_app = typer.Typer(
    help="A real single-node OpenStack Swift on loopback.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(swift_app, name="swift")
app.add_typer(dev_keystone.app, name="keystone")

WorkdirArg = Annotated[
    Path, typer.Argument(help="Directory holding the Swift's data, configs, logs and state.")
]


def _venv_dir() -> Path:
    cache = os.environ.get("RADSWIFT_CACHE_DIR")
    return default_venv_dir(Path(cache) if cache else DEFAULT_CACHE_DIR)


def _print_exports(swift: LocalSwift) -> None:
    for name, value in swift.environ().items():
        typer.echo(f"export {name}={shlex.quote(value)}")


@swift_app.command("start")
def swift_start(
    workdir: WorkdirArg,
    port: Annotated[int | None, typer.Option(help="Proxy port (default: a free one).")] = None,
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
    memcached: Annotated[bool, typer.Option(help="Run a memcached if installed.")] = True,
) -> None:
    """Start a local Swift in WORKDIR and print `export ST_AUTH=...` lines for eval."""
    began = time.monotonic()
    swift = LocalSwift.start(
        workdir, host=host, proxy_port=port, memcached=memcached, venv_dir=_venv_dir()
    )
    typer.echo(
        f"local Swift ready at {swift.url} in {time.monotonic() - began:.1f} s "
        f"(logs: {swift.log_dir})",
        err=True,
    )
    _print_exports(swift)


@swift_app.command("stop")
def swift_stop(workdir: WorkdirArg) -> None:
    """Stop the local Swift running in WORKDIR (its data stays)."""
    LocalSwift.attach(workdir).stop()
    typer.echo(f"local Swift in {workdir} stopped", err=True)


@swift_app.command("status")
def swift_status(workdir: WorkdirArg) -> None:
    """Say whether the local Swift in WORKDIR runs; exit 69 if it does not."""
    swift = LocalSwift.attach(workdir)
    if not swift.is_running():
        raise StorageUnavailable(f"local Swift in {workdir} is not running")
    typer.echo(f"running at {swift.url}")
    for name, pid in swift.pids.items():
        typer.echo(f"  {name}: pid {pid}")


@swift_app.command("env")
def swift_env(workdir: WorkdirArg) -> None:
    """Print the `export ST_AUTH=...` lines of the local Swift in WORKDIR again."""
    _print_exports(LocalSwift.attach(workdir))


from radswift.cli.demo import demo  # noqa: E402  (registered here: `radswift dev demo`)
from radswift.cli.dev_clean import clean  # noqa: E402

app.command("demo")(demo)
app.command("clean")(clean)
