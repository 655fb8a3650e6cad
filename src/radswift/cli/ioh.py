"""`radswift push KEY DIR --ioh URL` and `radswift pull KEY DIR --ioh URL`: through pfioh.

The token comes from --token or $RADSWIFT_IOH_TOKEN (read here, the composition root).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from radswift.bundle import LAYOUTS, Layout
from radswift.cli.progress import transfer_progress
from radswift.client.ioh import IohClient

TOKEN_ENV = "RADSWIFT_IOH_TOKEN"  # noqa: S105 (a variable name, not a secret)
IohOption = Annotated[str, typer.Option("--ioh", help="pfioh's URL, e.g. http://127.0.0.1:5055")]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", help=f"Bearer token (default: ${TOKEN_ENV}).", show_default=False),
]
AreaOption = Annotated[str, typer.Option("--area", help="input or output.")]


def register(app: typer.Typer) -> None:
    app.command("push")(push)
    app.command("pull")(pull)


def push(
    key: Annotated[str, typer.Argument(help="The job key (a Swift container).")],
    source: Annotated[
        Path, typer.Argument(help="Directory to upload.", exists=True, file_okay=False)
    ],
    ioh: IohOption,
    token: TokenOption = None,
    area: AreaOption = "input",
    replace: Annotated[bool, typer.Option(help="Make the area exactly DIR's tree.")] = False,
    layout: Annotated[
        str | None,
        typer.Option(
            "--layout",
            show_default=False,
            help="objects (one Swift object per file) or bundle (the tree as one tar object: "
            "much faster for many small files); default: the server's.",
        ),
    ] = None,
) -> None:
    """Upload DIR to KEY's input/ through pfioh, as a tar streamed on the fly."""
    chosen = _layout(layout)
    with (
        IohClient(ioh, token=_token(token)) as client,
        transfer_progress(f"push {key}") as progress,
    ):
        reply = client.push(
            key, source, area=area, replace=replace, layout=chosen, progress=progress
        )
    typer.echo(json.dumps(reply))


def pull(
    key: Annotated[str, typer.Argument(help="The job key (a Swift container).")],
    dest: Annotated[Path, typer.Argument(help="Directory to write into.", file_okay=False)],
    ioh: IohOption,
    token: TokenOption = None,
    area: AreaOption = "output",
) -> None:
    """Download KEY's output/ through pfioh into DIR, unpacking the stream as it arrives."""
    with (
        IohClient(ioh, token=_token(token)) as client,
        transfer_progress(f"pull {key}") as progress,
    ):
        result = client.pull(key, dest, area=area, progress=progress)
    typer.echo(
        json.dumps(
            {
                "key": key,
                "files": result.files,
                "directories": result.directories,
                "bytes": result.bytes,
            }
        )
    )


def _layout(value: str | None) -> Layout | None:
    if value is None:
        return None
    for name in LAYOUTS:
        if name == value:
            return name
    raise typer.BadParameter(f"use one of {', '.join(LAYOUTS)}", param_hint="--layout")


def _token(option: str | None) -> str | None:
    return option or os.environ.get(TOKEN_ENV) or None
