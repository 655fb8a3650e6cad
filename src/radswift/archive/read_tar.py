"""Reading a tar (plain, or gunzipped by source.GunzipReader) as a stream.

tarfile parses the headers (ustar, pax, GNU long names). Its own stream mode
("r|") copies every byte three times in Python (about 100 MB/s here), so the
TarFile reads instead from a forward-only file (_ForwardFile) whose tell/seek
only ever move ahead, and member data is read straight from that file. Its
extraction filters only guard extraction to disk: here members become objects,
so each TarInfo is validated by hand. Two more gaps are closed:
tarfile ends iteration silently on a truncated or garbled header after the first
one, so the header that ended the archive is recorded and must be the zero
end-of-archive block; and it keeps every TarInfo in `members`, which is emptied
as we go so 200,000 entries do not pile up.
"""

from __future__ import annotations

import math
import tarfile
from collections.abc import Iterator
from typing import IO, Any, cast

from radswift.archive.limits import ArchiveLimits, Tally
from radswift.archive.model import CHUNK_BYTES, ArchiveEntry
from radswift.archive.paths import PathRegistry, normalize_entry_path
from radswift.archive.source import SupportsRead
from radswift.archive.tar_headers import HeaderGuard
from radswift.errors import InvalidInput, UnsafeArchive

Item = tuple[ArchiveEntry, Iterator[bytes] | None]
# What tarfile raises on malformed input besides its own errors (a hostile header reaches
# int(), split() and recursion inside it): never a 500, always a "corrupt tar".
_TARFILE_FAULTS = (tarfile.TarError, ValueError, OverflowError, RecursionError)

# Not in typeshed, but part of tarfile since Python 3.2.
_EOF_HEADER: type[Exception] = tarfile.EOFHeaderError  # type: ignore[attr-defined]


class _GuardedTarInfo(tarfile.TarInfo):
    """tarfile's own fromtarfile (the same three steps), with the header guard between
    parsing the 512-byte block and processing the data it announces; and it remembers,
    on its TarFile, why the last header read failed (end of archive or not)."""

    @classmethod
    def fromtarfile(cls, tarfile_: tarfile.TarFile) -> _GuardedTarInfo:
        assert isinstance(tarfile_, _StrictTarFile)
        fileobj = tarfile_.forward
        try:
            buf = fileobj.read(tarfile.BLOCKSIZE)
            obj = cls.frombuf(buf, tarfile_.encoding, tarfile_.errors)
        except tarfile.HeaderError as exc:
            tarfile_.last_header_error = exc
            raise
        obj.offset = fileobj.tell() - tarfile.BLOCKSIZE
        tarfile_.guard.check(obj, fileobj)
        return cast(_GuardedTarInfo, obj._proc_member(tarfile_))  # type: ignore[attr-defined]


class _StrictTarFile(tarfile.TarFile):
    tarinfo = _GuardedTarInfo
    last_header_error: Exception | None = None

    def __init__(self, forward: _ForwardFile, guard: HeaderGuard) -> None:
        self.forward, self.guard = forward, guard  # TarFile reads the first header at once
        super().__init__(
            fileobj=cast(IO[bytes], forward), mode="r", encoding="utf-8", errors="surrogateescape"
        )


_KINDS = (
    (tarfile.TarInfo.issym, "a symbolic link"),
    (tarfile.TarInfo.islnk, "a hard link"),
    (tarfile.TarInfo.ischr, "a character device"),
    (tarfile.TarInfo.isblk, "a block device"),
    (tarfile.TarInfo.isfifo, "a fifo"),
    (tarfile.TarInfo.issparse, "a sparse file"),
)


def iter_tar(source: SupportsRead, limits: ArchiveLimits, tally: Tally) -> Iterator[Item]:
    """Yield each entry of a tar stream; see radswift.archive.iter_archive for the contract."""
    registry = PathRegistry()
    tar, forward = _open(source, HeaderGuard(limits.max_header_bytes))
    while True:
        tar.guard.start_member()
        info = _next(tar)
        if info is None:
            break
        tar.members.clear()  # type: ignore[attr-defined]  # tarfile keeps every TarInfo
        entry = _entry(info, limits)
        if not entry.path:
            continue  # the archive's root directory, "./"
        registry.add(entry.path, is_dir=entry.is_dir)
        tally.start_entry(entry.path, entry.size)
        if entry.is_dir:
            yield entry, None
            continue
        chunks = _chunks(forward, info, entry, tally)
        yield entry, chunks
        for _ in chunks:
            pass
    _check_end(tar)


class _ForwardFile:
    """A file for TarFile over a non-seekable source: exact reads, tell, forward seeks."""

    def __init__(self, source: SupportsRead) -> None:
        self._source = source
        self._pos = 0
        self._back = b""  # bytes given back by unread(), served first

    def unread(self, data: bytes) -> None:
        """Give back the bytes just read, to be read again (the header guard peeks)."""
        self._back = data + self._back
        self._pos -= len(data)

    def read(self, n: int = -1) -> bytes:
        """Exactly `n` bytes, fewer only at the end of the stream."""
        if n < 0:
            raise tarfile.ReadError("unbounded read of a streamed archive")
        if self._back:
            out, self._back = self._back[:n], self._back[n:]
            self._pos += len(out)
            return out + self.read(n - len(out)) if len(out) < n else out
        first = self._source.read(n)
        if len(first) == n or not first:
            self._pos += len(first)
            return first
        parts, got = [first], len(first)
        while got < n and (more := self._source.read(n - got)):
            parts.append(more)
            got += len(more)
        self._pos += got
        return b"".join(parts)

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        target = pos if whence == 0 else self._pos + pos
        if target < self._pos or whence not in (0, 1):
            raise tarfile.ReadError("the archive would need a backward seek")
        while self._pos < target:
            if not self.read(min(CHUNK_BYTES, target - self._pos)):
                break
        return self._pos


def _open(source: SupportsRead, guard: HeaderGuard) -> tuple[_StrictTarFile, _ForwardFile]:
    forward = _ForwardFile(source)
    try:
        tar = _StrictTarFile(forward, guard)
    except _TARFILE_FAULTS as exc:
        raise _translate(exc, "(archive start)") from None
    return tar, forward


def _next(tar: _StrictTarFile) -> tarfile.TarInfo | None:
    try:
        return tar.next()
    except _TARFILE_FAULTS as exc:
        raise _translate(exc, "(next header)") from None


def _entry(info: tarfile.TarInfo, limits: ArchiveLimits) -> ArchiveEntry:
    path = normalize_entry_path(info.name, max_name_bytes=limits.max_name_bytes)
    for test, kind in _KINDS:
        if test(info):
            raise UnsafeArchive(
                f"entry {info.name!r} is {kind}, which is not allowed", reason="link_entry"
            )
    if info.isdir():
        return ArchiveEntry(path=path, is_dir=True, size=0, mtime=_mtime(info))
    if not info.isreg():
        raise UnsafeArchive(
            f"entry {info.name!r} has unsupported tar type {info.type!r}", reason="bad_entry"
        )
    if not path:
        raise UnsafeArchive(f"entry {info.name!r} has an empty name", reason="bad_name")
    return ArchiveEntry(path=path, is_dir=False, size=info.size, mtime=_mtime(info))


def _mtime(info: tarfile.TarInfo) -> float | None:
    """The entry's time, or None (unknown) if a pax header made it no time: infinite,
    NaN, before 1970 or past what tar's own fields can hold (8**11 s, the year 6325)."""
    value = info.mtime
    if isinstance(value, int | float) and math.isfinite(value) and 0 <= value < 8**11:
        return float(value)
    return None


def _chunks(
    forward: _ForwardFile, info: tarfile.TarInfo, entry: ArchiveEntry, tally: Tally
) -> Iterator[bytes]:
    """The member's bytes; tar's header size is authoritative, so only the caps need counting.

    tarfile leaves the file at the member's data; it skips the padding itself
    when asked for the next header.
    """
    done = 0
    try:
        forward.seek(info.offset_data)
        while done < info.size:
            data = forward.read(min(CHUNK_BYTES, info.size - done))
            if not data:
                break
            done += len(data)
            tally.add_bytes(entry.path, done, len(data))
            yield data
    except tarfile.TarError as exc:
        raise _translate(exc, entry.path) from None
    if done != info.size:
        raise InvalidInput(
            f"truncated archive: entry {entry.path!r} ends early", reason="truncated"
        )


def _check_end(tar: _StrictTarFile) -> None:
    """Tell a proper end-of-archive block from a stream cut short (tarfile cannot)."""
    error = tar.last_header_error
    if isinstance(error, _EOF_HEADER):
        return
    if error is None or type(error).__name__ in ("EmptyHeaderError", "TruncatedHeaderError"):
        raise InvalidInput(
            "truncated archive: the tar ends without its end-of-archive marker", reason="truncated"
        )
    raise InvalidInput(f"corrupt tar: bad header after the last entry ({error})", reason="corrupt")


def _translate(exc: Any, where: str) -> InvalidInput:
    message = str(exc) if isinstance(exc, tarfile.TarError) else type(exc).__name__
    if "unexpected end of data" in message or "empty file" in message:
        return InvalidInput(f"truncated archive: the tar ends inside {where!r}", reason="truncated")
    return InvalidInput(f"corrupt tar near {where!r}: {message}", reason="corrupt")
