"""`radswift push KEY DIR --ioh URL` and `radswift pull KEY DIR --ioh URL`: through pfioh.

The token comes from --token or $RADSWIFT_IOH_TOKEN (read here, the composition root).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from radswift.bundle import LAYOUTS, Layout
from radswift.cli.progress import transfer_progress
from radswift.cli.summary import report, summary_line
from radswift.service_clients.pfioh import IohClient

TOKEN_ENV = "RADSWIFT_IOH_TOKEN"  # noqa: S105 (a variable name, not a secret)
IohOption = Annotated[str, typer.Option("--ioh", help="pfioh's URL, e.g. http://127.0.0.1:5055")]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", help=f"Bearer token (default: ${TOKEN_ENV}).", show_default=False),
]
AreaOption = Annotated[str, typer.Option("--area", help="input or output.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable result.")]


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
    json_output: JsonOption = False,
) -> None:
    """Upload DIR to KEY's input/ through pfioh, as a tar streamed on the fly."""
    chosen = _layout(layout)
    started = time.monotonic()
    with (
        IohClient(ioh, token=_token(token)) as client,
        transfer_progress(
            f"push {key}", enabled=False if json_output else None, after_sent="storing..."
        ) as progress,
    ):
        reply = client.push(
            key, source, area=area, replace=replace, layout=chosen, progress=progress
        )
    line = summary_line(
        files=int(reply.get("files", 0)),
        directories=int(reply.get("directories", 0)),
        nbytes=int(reply.get("bytes", 0)),
        seconds=time.monotonic() - started,
    )
    report(json_output, reply, f"pushed {line} to {key}/{area}/ on {ioh}")


def pull(
    key: Annotated[str, typer.Argument(help="The job key (a Swift container).")],
    dest: Annotated[Path, typer.Argument(help="Directory to write into.", file_okay=False)],
    ioh: IohOption,
    token: TokenOption = None,
    area: AreaOption = "output",
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Accept an area holding nothing (else an error naming the areas the key has).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Download KEY's output/ through pfioh into DIR, unpacking the stream as it arrives."""
    started = time.monotonic()
    with (
        IohClient(ioh, token=_token(token)) as client,
        transfer_progress(f"pull {key}", enabled=False if json_output else None) as progress,
    ):
        result = client.pull(key, dest, area=area, allow_empty=allow_empty, progress=progress)
    document = {
        "key": key,
        "area": area,
        "files": result.files,
        "directories": result.directories,
        "bytes": result.bytes,
    }
    line = summary_line(
        files=result.files,
        directories=result.directories,
        nbytes=result.bytes,
        seconds=time.monotonic() - started,
    )
    report(json_output, document, f"pulled {line} from {key}/{area}/ into {dest}")


def _layout(value: str | None) -> Layout | None:
    if value is None:
        return None
    for name in LAYOUTS:
        if name == value:
            return name
    raise typer.BadParameter(f"use one of {', '.join(LAYOUTS)}", param_hint="--layout")


def _token(option: str | None) -> str | None:
    return option or os.environ.get(TOKEN_ENV) or None
