"""What every transfer command (cp, push, pull) prints when it is done.

One convention: a human line on stderr by default ("5 files, 1 directory, 1.2 MiB in
0.4 s (3.0 MiB/s)"), a JSON object on stdout with `--json` for machines. Sizes and
rates in binary units (KiB, MiB, GiB), as the progress bar shows them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import typer


def plural(count: int, word: str) -> str:
    """'1 file', '2 files', '1 directory', '0 directories'."""
    if count == 1:
        return f"1 {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"


def human_size(size: float) -> str:
    """Bytes in binary units: '512 B', '1.2 MiB'."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def summary_line(*, files: int, directories: int, nbytes: int, seconds: float | None) -> str:
    """'5 files, 1 directory, 1.2 MiB in 0.4 s (3.0 MiB/s)' (directories only if any)."""
    parts = [plural(files, "file")]
    if directories:
        parts.append(plural(directories, "directory"))
    parts.append(human_size(nbytes))
    line = ", ".join(parts)
    if seconds is not None:
        rate = nbytes / seconds if seconds > 0 else 0.0
        line += f" in {seconds:.1f} s ({human_size(rate)}/s)"
    return line


def report(as_json: bool, document: Mapping[str, Any], human: str) -> None:
    """`document` as JSON on stdout with --json, else the `human` line on stderr."""
    if as_json:
        typer.echo(json.dumps(dict(document), ensure_ascii=False))
    else:
        typer.echo(human, err=True)
