"""`radswift dev keystone ...`: a real Keystone v3 with a local Swift behind it.

    eval "$(radswift dev keystone start /tmp/ks)"   # exports OS_AUTH_URL, OS_USERNAME, ...
    radswift dev keystone stop /tmp/ks

Credentials go to stdout (so `eval` works), everything else to stderr. The Keystone venv
lives in `$RADSWIFT_CACHE_DIR/keystone-venv-30` (default `~/.cache/radswift`).
"""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import Annotated

import typer

from radswift.dev.keystone import (
    KeystoneSettings,
    KeystoneSwift,
    default_keystone_venv_dir,
    stop_keystone_swift,
)
from radswift.dev.swift import DEFAULT_CACHE_DIR, default_venv_dir
from radswift.errors import InvalidInput

AUTH_KINDS = ("password", "application-credential")

app = typer.Typer(
    help="A real Keystone v3 (SQLite) with a local Swift behind it.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

WorkdirArg = Annotated[
    Path, typer.Argument(help="Directory holding Keystone's and Swift's data, logs and state.")
]


def _cache_dir() -> Path:
    cache = os.environ.get("RADSWIFT_CACHE_DIR")
    return Path(cache) if cache else DEFAULT_CACHE_DIR


@app.command("start")
def keystone_start(
    workdir: WorkdirArg,
    auth: Annotated[
        str, typer.Option(help="Credentials to export: 'password' or 'application-credential'.")
    ] = "password",
    token_expiration: Annotated[int, typer.Option(help="Token lifetime in seconds.")] = 3600,
) -> None:
    """Start Keystone and a Swift behind it in WORKDIR; print `export OS_...` lines for eval."""
    if auth not in AUTH_KINDS:
        raise InvalidInput(f"--auth must be one of {', '.join(AUTH_KINDS)}")
    began = time.monotonic()
    stack = KeystoneSwift.start(
        workdir,
        settings=KeystoneSettings(token_expiration=token_expiration),
        keystone_venv=default_keystone_venv_dir(_cache_dir()),
        swift_venv=default_venv_dir(_cache_dir()),
        environ=os.environ,
    )
    typer.echo(
        f"Keystone at {stack.keystone.auth_url}, Swift at {stack.swift.url}, ready in "
        f"{time.monotonic() - began:.1f} s (logs: {stack.keystone.log_dir}, {stack.swift.log_dir})",
        err=True,
    )
    environ = stack.app_credential_environ() if auth == AUTH_KINDS[1] else stack.password_environ()
    for name, value in environ.items():
        typer.echo(f"export {name}={shlex.quote(value)}")


@app.command("stop")
def keystone_stop(workdir: WorkdirArg) -> None:
    """Stop the Keystone and the Swift running in WORKDIR (their data stays)."""
    stop_keystone_swift(workdir)
    typer.echo(f"Keystone and Swift in {workdir} stopped", err=True)
