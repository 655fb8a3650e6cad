"""Streaming a key's area out as an archive built on the fly (zip, tar or tar.gz).

The listing is taken first (so a missing key is an error before any byte is sent), the
archive is then produced entry by entry while the prefetcher downloads the next small
objects in parallel. Names of unfinished pushes are left out (see claims.py), and an
area replaced by a generation is read from its current generation only, resolved once
before the listing (radswift.generation): the archive is the old tree or the new one.
An area in the bundle layout (one tar object) is served from its bundle (pull_bundle.py).
Every object's bytes are checked against its MD5 as they go out (prefetch.py).
Zips are ZIP64 and stored, not deflated, unless `compress` (DICOM and NIfTI.gz gain
little, and deflate would cost the CPU that Swift needs on a small machine).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from radswift.archive import ArchiveLimits, OutEntry, tar_stream, zip_stream
from radswift.archive.write import tar_size
from radswift.errors import InvalidInput
from radswift.names import validate_key
from radswift.services.ioh.core.keys import area_objects
from radswift.services.ioh.core.prefetch import Prefetcher
from radswift.services.ioh.core.pull_bundle import area_bundle, bundle_archive
from radswift.services.ioh.core.resources import Resources
from radswift.store.base import ObjectInfo, ObjectStore

ArchiveFormat = Literal["zip", "tar", "tar.gz"]
FORMATS: tuple[ArchiveFormat, ...] = ("zip", "tar", "tar.gz")
OUT_CHUNK = 1024 * 1024
"""Archive output is coalesced into pieces this big: fewer, larger writes to the socket,
and (Starlette iterates a sync body in a worker thread, one hop per piece) fewer
thread hops and ASGI messages per MiB sent."""


@dataclass(frozen=True, slots=True)
class AreaArchive:
    """An area's archive as chunks, and its exact length when known up front (plain tar)."""

    chunks: Iterator[bytes]
    size: int | None


def open_area(
    store: ObjectStore,
    key: str,
    area: str,
    *,
    fmt: ArchiveFormat,
    compress: bool,
    resources: Resources,
    limits: ArchiveLimits,
    on_bytes: Callable[[int], None] | None = None,
) -> AreaArchive:
    """The archive of `key`/`area` as chunks, and its length for a plain tar (for
    Content-Length). NotFound (before any chunk) if no such key. `limits`: the server's
    push limits (a bundle is read within them, see pull_bundle)."""
    validate_key(key)  # before any store request: a hostile key is a 400, never a lookup
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown archive format {fmt!r}: use one of {', '.join(FORMATS)}")
    lease = ExitStack()
    lease.enter_context(resources.leases.reading(key, area))  # before resolving
    try:
        archive = _open(
            store,
            key,
            area,
            fmt=fmt,
            compress=compress,
            resources=resources,
            limits=limits,
            on_bytes=on_bytes,
        )
    except BaseException:
        lease.close()
        raise
    return AreaArchive(Leased(archive.chunks, lease), archive.size)


def _open(
    store: ObjectStore,
    key: str,
    area: str,
    *,
    fmt: ArchiveFormat,
    compress: bool,
    resources: Resources,
    limits: ArchiveLimits,
    on_bytes: Callable[[int], None] | None,
) -> AreaArchive:
    view, infos = area_objects(store, key, area, resources.claims)
    bundle = None if view.is_generation else area_bundle(infos, key, area)
    if bundle is not None:
        chunks, length = bundle_archive(
            store,
            key,
            bundle,
            fmt=fmt,
            compress=compress,
            mtime=_mtime(bundle),
            limits=limits,
            on_bytes=on_bytes or (lambda n: None),
        )
        return AreaArchive(chunks, length)
    prefetcher = Prefetcher(
        store,
        key,
        infos,
        pool=resources.get_pool,
        window=resources.tuning.prefetch_bytes,
        ahead=resources.tuning.transfer.workers,
        small=resources.tuning.small_entry,
        budget=resources.budget,
        on_bytes=on_bytes or (lambda n: None),
    )
    entries = [_out_entry(info, view.prefix, prefetcher) for info in infos]
    size: int | None = None
    if fmt == "zip":
        raw = zip_stream(entries, compress=compress)
    else:
        raw = tar_stream(entries, gzip=fmt == "tar.gz")
        size = tar_size(entries) if fmt == "tar" else None
    return AreaArchive(_coalesced(raw, prefetcher), size)


def _out_entry(info: ObjectInfo, prefix: str, prefetcher: Prefetcher) -> OutEntry:
    path = info.name[len(prefix) :]
    mtime = _mtime(info)
    if info.is_directory_marker:
        return OutEntry(path=path.rstrip("/"), size=0, mtime=mtime, chunks=None, mode=0o755)
    return OutEntry(path=path, size=info.size, mtime=mtime, chunks=lambda: prefetcher.chunks(info))


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


class Leased(Iterator[bytes]):
    """An archive's chunks that hold the area's read lease (core/leases.py) until they
    are exhausted or closed, or the iterator is dropped unread (a client gone before
    the first byte must not leave a lease that every later replace waits for)."""

    def __init__(self, chunks: Iterator[bytes], lease: ExitStack) -> None:
        self._chunks = chunks
        self._lease: ExitStack | None = lease

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        lease, self._lease = self._lease, None
        if lease is None:
            return
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            lease.close()

    def __del__(self) -> None:
        self.close()


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
