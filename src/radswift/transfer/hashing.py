"""MD5s of local files and checks of streamed bytes against what the store vouches for.

A plain object's ETag is the MD5 of its bytes; a large object's is not, so it is
checked segment by segment against the manifest's segment ETags (as swiftclient does).
Hashing happens on big buffers: hashlib releases the GIL for them, so worker threads
hash in parallel.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence

from radswift.errors import IntegrityError
from radswift.store.base import ObjectInfo, ObjectReader, SegmentRef

READ_BUFFER = 4 * 1024 * 1024


def file_md5(path: str, offset: int = 0, length: int | None = None) -> str:
    """Hex MD5 of `length` bytes of the file at `offset` (to its end if None)."""
    digest = hashlib.md5(usedforsecurity=False)
    buffer = bytearray(READ_BUFFER)
    view = memoryview(buffer)
    fd = os.open(path, os.O_RDONLY)
    try:
        remaining = os.fstat(fd).st_size - offset if length is None else length
        os.lseek(fd, offset, os.SEEK_SET)
        while remaining > 0:
            n = os.readv(fd, [view[: min(READ_BUFFER, remaining)]])
            if n == 0:
                break
            digest.update(view[:n])
            remaining -= n
    finally:
        os.close(fd)
    return digest.hexdigest()


def file_matches(path: str, size: int, etag: str, segments: Sequence[SegmentRef] | None) -> bool:
    """Does the local file hold exactly the bytes of this object?"""
    if segments is None:
        return file_md5(path, 0, size) == etag
    offset = 0
    for ref in segments:
        if file_md5(path, offset, ref.size) != ref.etag:
            return False
        offset += ref.size
    return offset == size


class StreamVerifier:
    """Hashes a download as it streams; `finish` raises IntegrityError on any mismatch."""

    def __init__(self, info: ObjectInfo, segments: Sequence[SegmentRef] | None) -> None:
        self._info = info
        self._segments = list(segments) if segments is not None else None
        self._digest = hashlib.md5(usedforsecurity=False)
        self._index = 0
        self._left = self._segments[0].size if self._segments else 0
        self.received = 0

    def update(self, chunk: bytes | memoryview) -> None:
        self.received += len(chunk)
        if self._segments is None:
            self._digest.update(chunk)
            return
        view = memoryview(chunk)
        while view:
            if self._index >= len(self._segments):
                raise IntegrityError(f"{self._info.name!r}: more bytes than its segments hold")
            take = min(self._left, len(view))
            self._digest.update(view[:take])
            view = view[take:]
            self._left -= take
            if self._left == 0:
                self._close_segment()

    def _close_segment(self) -> None:
        assert self._segments is not None
        ref = self._segments[self._index]
        got = self._digest.hexdigest()
        if got != ref.etag:
            raise IntegrityError(
                f"{self._info.name!r}: segment {self._index} has MD5 {got},"
                f" the store says {ref.etag}"
            )
        self._digest = hashlib.md5(usedforsecurity=False)
        self._index += 1
        if self._index < len(self._segments):
            self._left = self._segments[self._index].size
            if self._left == 0:
                self._close_segment()

    def finish(self) -> None:
        name = self._info.name
        if self.received != self._info.size:
            raise IntegrityError(
                f"{name!r}: received {self.received} bytes, the store says {self._info.size}"
            )
        if self._segments is None:
            got = self._digest.hexdigest()
            if got != self._info.etag:
                raise IntegrityError(f"{name!r}: MD5 {got} differs from ETag {self._info.etag}")
        elif self._index != len(self._segments):
            raise IntegrityError(f"{name!r}: ended inside segment {self._index}")


class VerifiedChunks:
    """The chunks of a reader opened at offset 0, each fed to a StreamVerifier (a bad
    segment fails as soon as it is complete); `finish` reads what is left and checks."""

    def __init__(self, reader: ObjectReader, on_bytes: Callable[[int], None] | None = None) -> None:
        self._chunks = reader.iter_chunks()
        self._verifier = StreamVerifier(reader.info, reader.segments)
        self._on_bytes = on_bytes

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        self._verifier.update(chunk)
        if self._on_bytes is not None:
            self._on_bytes(len(chunk))
        return chunk

    def finish(self) -> None:
        """Read the rest of the object (nothing, when the caller read it all) and raise
        IntegrityError unless every byte matched."""
        for _ in self:
            pass
        self._verifier.finish()
