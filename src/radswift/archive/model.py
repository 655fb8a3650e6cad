"""The entries that flow in (ArchiveEntry, read from an upload) and out (OutEntry, to build one)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Chunks are copied in pieces this big: large enough that Python's per-call cost
# vanishes next to memcpy/zlib, small enough that a few in flight stay cheap.
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ArchiveEntry:
    """One entry of an archive being read; `path` is already validated and normalized.

    `size` is the size the archive declares (None when a zip data descriptor
    defers it to after the data); the reader enforces it while streaming.
    `mtime` is None for zip (a streaming reader sees only the DOS time in the
    local header, which carries no time zone).
    """

    path: str
    is_dir: bool
    size: int | None
    mtime: float | None


@dataclass(frozen=True, kw_only=True)
class OutEntry:
    """One entry of an archive being written; `chunks` is None for a directory.

    `chunks` is called when the entry's turn comes, so data is fetched lazily
    (one object download at a time); it must yield exactly `size` bytes.
    """

    path: str
    size: int
    mtime: float
    chunks: Callable[[], Iterable[bytes]] | None
    mode: int = 0o644
