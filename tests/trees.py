"""Directory trees in tests: written from a dict of files, read back as one.

Shared by the unit and integration suites (tests/ is on the import path, as for fakes/).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def make_tree(
    root: Path,
    files: Mapping[str, bytes],
    empty_dirs: tuple[str, ...] = (),
    *,
    mtime: float | None = None,
) -> Path:
    """`files` (relative path -> bytes) and `empty_dirs` under `root`; every file's mtime
    set to `mtime` if given (for archives compared byte for byte). Returns `root`."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
    for rel in empty_dirs:
        (root / rel).mkdir(parents=True, exist_ok=True)
    return root


def tree_of(root: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and empty directory (None) under root."""
    found: dict[str, bytes | None] = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file():
            found[rel] = path.read_bytes()
        elif not any(path.iterdir()):
            found[rel] = None
    return found
