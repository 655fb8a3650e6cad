"""Building archives on the fly for pulls: zip (stream-zip, ZIP64) and tar (pax), streamed.

Nothing is buffered beyond one chunk: entries are fetched lazily (OutEntry.chunks
is called when its turn comes) and the output is yielded as it is produced.

Zip: every member is ZIP64 (safe beyond 4 GiB and 65,535 entries; readable by
Python, Info-ZIP, 7-Zip, libarchive). "Stored" output uses deflate at level 0
(stored blocks, ~5 bytes per 64 KiB): a true stored member needs its CRC-32 in
the header before the data, which a streamed writer cannot know, and a data
descriptor after a stored member cannot be read by streaming unzippers.
compress=True uses level 1: the service shares 2 cores with Swift, and DICOM
pixel data gains little from harder work.

Tar: pax format (long and non-ASCII names, sizes beyond 8 GiB), headers built
by tarfile.TarInfo.tobuf, data copied chunk by chunk, padded to 512 bytes.
"""

from __future__ import annotations

import stat
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import stream_zip as sz

from radswift.archive.model import CHUNK_BYTES, OutEntry
from radswift.archive.paths import normalize_entry_path
from radswift.errors import IntegrityError, InvalidInput
from radswift.names import MAX_OBJECT_NAME_BYTES

# MS-DOS timestamps in zip headers cover 1980..2107 only; clamp rather than fail.
_DOS_MIN = datetime(1980, 1, 2, tzinfo=UTC).timestamp()
_DOS_MAX = datetime(2107, 12, 30, tzinfo=UTC).timestamp()
_BLOCK = tarfile.BLOCKSIZE
_RECORD = tarfile.RECORDSIZE
_PASS_THROUGH = 64 * 1024


def zip_stream(entries: Iterable[OutEntry], *, compress: bool = False) -> Iterator[bytes]:
    """Yield a ZIP64 archive of `entries`, chunk by chunk."""
    level = 1 if compress else 0
    members = (_zip_member(entry) for entry in entries)
    try:
        yield from sz.stream_zip(
            members,
            chunk_size=CHUNK_BYTES,
            get_compressobj=lambda: zlib.compressobj(level=level, wbits=-zlib.MAX_WBITS),
        )
    except sz.ZipError as exc:
        raise InvalidInput(
            f"cannot build the zip: {type(exc).__name__}", reason="zip_error"
        ) from None


def tar_stream(entries: Iterable[OutEntry], *, gzip: bool = False) -> Iterator[bytes]:
    """Yield a pax tar (gzipped if asked) of `entries`, chunk by chunk."""
    raw = _tar_blocks(entries)
    if not gzip:
        yield from _coalesce(raw)
        return
    zobj = zlib.compressobj(level=1, wbits=31)
    for data in _coalesce(raw):
        out = zobj.compress(data)
        if out:
            yield out
    yield zobj.flush()


def _zip_member(entry: OutEntry) -> sz.MemberFile:
    path = _checked_path(entry.path)
    modified = datetime.fromtimestamp(min(max(entry.mtime, _DOS_MIN), _DOS_MAX), tz=UTC)
    if entry.chunks is None:
        return (path + "/", modified, stat.S_IFDIR | 0o755, sz.ZIP_64, ())
    return (path, modified, stat.S_IFREG | (entry.mode & 0o777), sz.ZIP_64, _sized(entry))


def tar_size(entries: Iterable[OutEntry]) -> int:
    """The exact length of tar_stream(entries) (not gzipped), known before any byte is
    fetched: headers are built as tar_stream builds them, data is padded to 512 bytes,
    the end blocks and the padding to the record follow. Lets a pull send Content-Length
    (a chunked body costs the server a copy of every piece)."""
    total = 2 * _BLOCK
    for entry in entries:
        total += len(tar_header(entry))
        if entry.chunks is not None:
            total += entry.size + (-entry.size % _BLOCK)
    return total + (-total % _RECORD)


def tar_header(entry: OutEntry) -> bytes:
    """The pax header block(s) of one entry, exactly as tar_stream writes them (bundle
    writers lay out the same bytes without streaming them)."""
    info = tarfile.TarInfo(_checked_path(entry.path))
    info.mtime = int(entry.mtime)
    if entry.chunks is None:
        info.type, info.mode, info.size = tarfile.DIRTYPE, 0o755, 0
    else:
        info.type, info.mode, info.size = tarfile.REGTYPE, entry.mode & 0o777, entry.size
    return info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8", errors="strict")


def _tar_blocks(entries: Iterable[OutEntry]) -> Iterator[bytes]:
    for entry in entries:
        yield tar_header(entry)
        if entry.chunks is not None:
            yield from _sized(entry)
            if entry.size % _BLOCK:
                yield bytes(_BLOCK - entry.size % _BLOCK)
    yield bytes(2 * _BLOCK)


def _coalesce(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Join small pieces (headers, padding) into bigger writes; pad to the tar record.

    Data pieces of 64 KiB or more pass through uncopied.
    """
    pending: list[bytes] = []
    size = total = 0
    for data in blocks:
        total += len(data)
        if len(data) >= _PASS_THROUGH:
            if pending:
                yield b"".join(pending)
                pending, size = [], 0
            yield data
            continue
        pending.append(data)
        size += len(data)
        if size >= CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    pending.append(bytes(-total % _RECORD))
    yield b"".join(pending)


def _sized(entry: OutEntry) -> Iterator[bytes]:
    """The entry's bytes, checked against its declared size (a tar header cannot be amended)."""
    assert entry.chunks is not None
    done = 0
    for data in entry.chunks():
        done += len(data)
        if done > entry.size:
            break
        if data:
            yield bytes(data)
    if done != entry.size:
        raise IntegrityError(
            f"{entry.path!r} yielded {done} bytes where {entry.size} were announced",
            reason="size_mismatch",
        )


def _checked_path(path: str) -> str:
    normalized = normalize_entry_path(path, max_name_bytes=MAX_OBJECT_NAME_BYTES)
    if not normalized:
        raise InvalidInput(f"cannot archive an entry named {path!r}", reason="bad_name")
    return normalized
