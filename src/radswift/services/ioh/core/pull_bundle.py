"""Reading an area stored in the bundle layout (one tar object; see radswift.bundle).

A plain tar pull of such an area is the bundle's own bytes, passed straight through
(its exact length is known: Content-Length). Any other format, and single files, are
read out of the bundle with the same safe, streamed archive reader as an upload
(radswift.archive.iter_archive), since a bundle written by another Swift client is
untrusted input like any other: memory stays flat whatever the bundle's size.

The caps of that reader are the server's push limits, or the defaults where those are
larger (read_limits): whatever pfioh accepted as a push it can read back.

Every byte served is checked against the store's MD5s (core/verify.py): an archive
pull holds its last piece back until the whole bundle is verified, so a corrupt bundle
gives a broken download, never a complete-looking one. The limit: a single file read
out of a bundle ends where the file ends, before the bundle does; the MD5 of a plain
(one-PUT) bundle covers the whole object, so that file's bytes are served unverified
(a large bundle's segments are verified as far as the file reaches).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from radswift.archive import (
    ArchiveEntry,
    ArchiveLimits,
    OutEntry,
    iter_archive,
    tar_stream,
    zip_stream,
)
from radswift.archive.source import ChunkStream
from radswift.bundle import BYTES_META, FILES_META, AreaState, area_state, bundle_object
from radswift.errors import Conflict, NotFound
from radswift.services.ioh.core.verify import held_back
from radswift.store.base import ObjectInfo, ObjectReader, ObjectStore
from radswift.transfer.hashing import VerifiedChunks

BUNDLE_LIMITS = ArchiveLimits()
"""The least a bundle read allows: the defaults of an upload (a bundle is an upload stored)."""


def read_limits(limits: ArchiveLimits) -> ArchiveLimits:
    """The caps for reading a bundle: each the larger of the server's and the default."""
    floor = BUNDLE_LIMITS
    return dataclasses.replace(
        limits,
        max_entries=max(limits.max_entries, floor.max_entries),
        max_total_bytes=max(limits.max_total_bytes, floor.max_total_bytes),
        max_entry_bytes=max(limits.max_entry_bytes, floor.max_entry_bytes),
        max_ratio=max(limits.max_ratio, floor.max_ratio),
        max_name_bytes=max(limits.max_name_bytes, floor.max_name_bytes),
        max_header_bytes=max(limits.max_header_bytes, floor.max_header_bytes),
    )


def area_bundle(infos: Sequence[ObjectInfo], key: str, area: str) -> ObjectInfo | None:
    """The area's bundle when the listing holds one (Conflict if other objects are beside
    it: another client mixed the layouts, or deleting replaced objects failed)."""
    name = bundle_object(area)
    bundle = next((info for info in infos if info.name == name), None)
    if area_state((info.name for info in infos), area) is AreaState.MIXED:
        raise Conflict(
            f"the area {area!r} of the key {key!r} holds a bundle and "
            f"{len(infos) - 1} other objects: delete one or the other",
            reason="mixed_layout",
        )
    return bundle


def bundle_archive(
    store: ObjectStore,
    key: str,
    info: ObjectInfo,
    *,
    fmt: str,
    compress: bool,
    mtime: float,
    limits: ArchiveLimits,
    on_bytes: Callable[[int], None],
) -> tuple[Iterator[bytes], int | None]:
    """The area's archive from its bundle, and its length when known (plain tar)."""
    reader = store.open_object(key, info.name)
    if fmt == "tar":
        return _passed(reader, on_bytes), info.size
    return _rebuilt(
        reader, fmt=fmt, compress=compress, mtime=mtime, limits=limits, on_bytes=on_bytes
    ), None


def _passed(reader: ObjectReader, on_bytes: Callable[[int], None]) -> Iterator[bytes]:
    try:
        chunks = VerifiedChunks(reader, on_bytes)
        yield from held_back(chunks, chunks.finish)
    finally:
        reader.close()


def _rebuilt(
    reader: ObjectReader,
    *,
    fmt: str,
    compress: bool,
    mtime: float,
    limits: ArchiveLimits,
    on_bytes: Callable[[int], None],
) -> Iterator[bytes]:
    """The bundle's entries re-archived as zip or tar.gz, one entry at a time; the
    archive's last piece (its end) only once the whole bundle is verified."""
    try:
        source = VerifiedChunks(reader, on_bytes)
        members = iter_archive(ChunkStream(source), "tar", read_limits(limits))
        entries = (_out_entry(entry, chunks, mtime) for entry, chunks in members)
        raw = (
            zip_stream(entries, compress=compress)
            if fmt == "zip"
            else tar_stream(entries, gzip=True)
        )
        yield from held_back(raw, source.finish)
    finally:
        reader.close()


def _out_entry(entry: ArchiveEntry, chunks: Iterator[bytes] | None, mtime: float) -> OutEntry:
    when = entry.mtime if entry.mtime is not None else mtime
    if chunks is None or entry.is_dir:
        return OutEntry(path=entry.path, size=0, mtime=when, chunks=None, mode=0o755)
    return OutEntry(path=entry.path, size=entry.size or 0, mtime=when, chunks=lambda: chunks)


@dataclass(slots=True)
class BundleMember:
    """One file found in a bundle: its size and a stream of its bytes (close it)."""

    size: int
    mtime: float | None
    chunks: Iterator[bytes]
    members: Iterator[tuple[ArchiveEntry, Iterator[bytes] | None]]
    reader: ObjectReader

    def close(self) -> None:
        close = getattr(self.members, "close", None)
        if close is not None:
            close()
        self.reader.close()


def find_member(
    store: ObjectStore, key: str, bundle: str, path: str, *, limits: ArchiveLimits
) -> BundleMember:
    """The file `path` of the bundle object `bundle`. NotFound if the bundle lacks it.

    Reads through the tar from its start up to the file (entries before it are read
    and discarded): fine for an occasional single-file read; an index of offsets would
    make it one ranged GET if that ever matters. Verified only as far as the bytes
    read reach (see the module doc)."""
    reader = store.open_object(key, bundle)
    try:
        members = iter_archive(ChunkStream(VerifiedChunks(reader)), "tar", read_limits(limits))
        for entry, chunks in members:
            if entry.path == path and chunks is not None:
                return BundleMember(
                    size=entry.size or 0,
                    mtime=entry.mtime,
                    chunks=chunks,
                    members=members,
                    reader=reader,
                )
    except BaseException:
        reader.close()
        raise
    reader.close()
    raise NotFound(f"{path!r} is not in the bundle of the key {key!r}")


def bundle_counts(store: ObjectStore, key: str, name: str) -> tuple[int, int] | None:
    """(files, bytes) from a bundle's metadata, or None when it does not carry them."""
    try:
        meta = store.head_object(key, name).metadata
        return int(meta[FILES_META]), int(meta[BYTES_META])
    except (NotFound, KeyError, ValueError):
        return None
