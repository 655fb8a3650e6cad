"""`radswift dev clean`: remove what radswift caches on this machine, saying what and how big.

    radswift dev clean --dry-run     list what would go, with sizes
    radswift dev clean               remove it

What goes: everything under the cache directory ($RADSWIFT_CACHE_DIR, default
~/.cache/radswift: the Swift, Keystone and legacy venvs, the emissary, the Debian base
image's root filesystem; each is remade when next needed), and the podman images the
demo and the tests build (`localhost/radswift:demo-*`, `:test-*`). A local Swift started
with `radswift dev swift start` runs from the cached venv: stop it first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer

from radswift.cli.summary import human_size
from radswift.dev.demo.images import list_images, remove_images
from radswift.dev.swift import DEFAULT_CACHE_DIR


def clean(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be removed, with sizes.")
    ] = False,
) -> None:
    """Remove radswift's caches (~/.cache/radswift) and its demo/test podman images."""
    cache = Path(os.environ.get("RADSWIFT_CACHE_DIR") or DEFAULT_CACHE_DIR).expanduser()
    verb = "would remove" if dry_run else "removed"
    total = 0
    for path in sorted(cache.iterdir()) if cache.is_dir() else []:
        size = tree_size(path)
        if not dry_run:
            _remove(path)
        typer.echo(f"{verb} {path} ({human_size(size)})")
        total += size
    images = list_images(os.environ)
    if not dry_run:
        remove_images(os.environ, images)
    for image in images:
        typer.echo(f"{verb} podman image {image.name} ({human_size(image.size)})")
        total += image.size
    typer.echo(f"{verb} {human_size(total)} in all", err=True)


def tree_size(path: Path) -> int:
    """Bytes of the files under `path` (links not followed), `path` itself if a file."""
    if path.is_symlink() or not path.is_dir():
        return path.lstat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
    return total


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
