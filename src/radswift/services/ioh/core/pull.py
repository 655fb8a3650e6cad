"""Streaming a key's area out as an archive built on the fly (zip, tar or tar.gz).

The listing is taken first (so a missing key is an error before any byte is sent), the
archive is then produced entry by entry while the prefetcher downloads the next small
objects in parallel. Names of unfinished pushes are left out (see claims.py).
Zips are ZIP64 and stored, not deflated, unless `compress` (DICOM and NIfTI.gz gain
little, and deflate would cost the CPU that Swift needs on a small machine).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Literal

from radswift.archive import OutEntry, tar_stream, zip_stream
from radswift.errors import InvalidInput
from radswift.services.ioh.core.keys import list_key
from radswift.services.ioh.core.prefetch import Prefetcher
from radswift.services.ioh.core.resources import Resources
from radswift.store.base import ObjectInfo, ObjectStore

ArchiveFormat = Literal["zip", "tar", "tar.gz"]
FORMATS: tuple[ArchiveFormat, ...] = ("zip", "tar", "tar.gz")
OUT_CHUNK = 256 * 1024
"""Archive output is coalesced into pieces this big: fewer, larger writes to the socket."""


def stream_area(
    store: ObjectStore,
    key: str,
    area: str,
    *,
    fmt: ArchiveFormat,
    compress: bool,
    resources: Resources,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The archive of `key`/`area` as chunks. NotFound (before any chunk) if no such key."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown archive format {fmt!r}: use one of {', '.join(FORMATS)}")
    infos = list_key(store, key, area, resources.claims)
    prefetcher = Prefetcher(store, key, infos, pool=resources.get_pool,
                            window=resources.tuning.prefetch_bytes,
                            ahead=resources.tuning.get_workers,
                            small=resources.tuning.small_entry,
                            budget=resources.budget,
                            on_bytes=on_bytes or (lambda n: None))
    entries = [_out_entry(info, area, prefetcher) for info in infos]
    if fmt == "zip":
        raw = zip_stream(entries, compress=compress)
    else:
        raw = tar_stream(entries, gzip=fmt == "tar.gz")
    return _coalesced(raw, prefetcher)


def _out_entry(info: ObjectInfo, area: str, prefetcher: Prefetcher) -> OutEntry:
    path = info.name[len(area):]
    mtime = _mtime(info)
    if info.is_directory_marker:
        return OutEntry(path=path.rstrip("/"), size=0, mtime=mtime, chunks=None, mode=0o755)
    return OutEntry(path=path, size=info.size, mtime=mtime,
                    chunks=lambda: prefetcher.chunks(info))


def _mtime(info: ObjectInfo) -> float:
    if info.last_modified:
        try:
            stamp = datetime.fromisoformat(info.last_modified.replace("Z", "+00:00"))
        except ValueError:
            return time.time()
        if stamp.tzinfo is None:  # Swift lists UTC times without a zone
            stamp = stamp.replace(tzinfo=UTC)
        return stamp.timestamp()
    return time.time()


def _coalesced(raw: Iterator[bytes], prefetcher: Prefetcher) -> Iterator[bytes]:
    """Join small pieces (headers, descriptors) into OUT_CHUNK writes; stop fetching on close."""
    pending: list[bytes] = []
    size = 0
    prefetcher.start()
    try:
        for piece in raw:
            pending.append(piece)
            size += len(piece)
            if size >= OUT_CHUNK:
                yield b"".join(pending)
                pending, size = [], 0
        if pending:
            yield b"".join(pending)
    finally:
        prefetcher.close()
