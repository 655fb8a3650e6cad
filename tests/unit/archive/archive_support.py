"""Helpers for the archive tests: build archives (ours and hostile ones) and consume them.

`consume` plays pfioh's push handler: an entry counts as complete only once its
chunk iterator is exhausted, and the error (if any) is returned beside them, so
tests can say exactly what a consumer would have committed.
"""

from __future__ import annotations

import io
import tarfile
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from radswift.archive import ArchiveLimits, Format, OutEntry, iter_archive, tar_stream, zip_stream
from radswift.errors import InvalidInput

FORMATS: tuple[Format, ...] = ("tar", "tar.gz", "zip")


@dataclass
class Consumed:
    files: dict[str, bytes] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    error: InvalidInput | None = None

    @property
    def complete(self) -> list[str]:
        return [*self.dirs, *self.files]


def consume(blob: bytes, fmt: Format = "auto", limits: ArchiveLimits | None = None) -> Consumed:
    """Read `blob` like a consumer that commits nothing until the end; keep the error."""
    result = Consumed()
    try:
        for entry, chunks in iter_archive(io.BytesIO(blob).read, fmt, limits or ArchiveLimits()):
            result.started.append(entry.path)
            if chunks is None:
                result.dirs.append(entry.path)
            else:
                result.files[entry.path] = b"".join(chunks)
    except InvalidInput as exc:
        result.error = exc
    return result


def build(fmt: Format, entries: Iterable[OutEntry]) -> bytes:
    """An archive of `entries` written by radswift's own writers."""
    if fmt == "zip":
        return b"".join(zip_stream(entries))
    return b"".join(tar_stream(entries, gzip=fmt == "tar.gz"))


def file_entry(path: str, data: bytes, mtime: float = 1_700_000_000.0) -> OutEntry:
    return OutEntry(path=path, size=len(data), mtime=mtime, chunks=lambda: [data])


def dir_entry(path: str) -> OutEntry:
    return OutEntry(path=path, size=0, mtime=1_700_000_000.0, chunks=None)


def raw_tar(members: Iterable[tuple[tarfile.TarInfo, bytes]], *, gz: bool = False) -> bytes:
    """A tar written by Python's tarfile, which (unlike ours) writes whatever it is told."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def tar_member(name: str, kind: bytes = tarfile.REGTYPE, **attrs: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in attrs.items():
        setattr(info, key, value)
    return info


def raw_zip(
    members: Iterable[tuple[str | zipfile.ZipInfo, bytes]], compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    """A zip written by Python's zipfile (any name, any mode bits)."""
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression=compression) as archive:
        warnings.simplefilter("ignore")  # zipfile warns about duplicates, which tests want
        for name, data in members:
            archive.writestr(name, data)
    return buf.getvalue()


class ChunkReader:
    """read(n) over a generator of chunks, holding at most one chunk: a request body stand-in."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._current = memoryview(b"")

    def read(self, n: int) -> bytes:
        while not self._current:
            try:
                self._current = memoryview(next(self._chunks))
            except StopIteration:
                return b""
        data, self._current = self._current[:n], self._current[n:]
        return bytes(data)


class UnseekableSink(io.RawIOBase):
    """A sink zipfile cannot seek in, so it writes sizes in data descriptors (as streamers do)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.buf += b
        return len(b)
