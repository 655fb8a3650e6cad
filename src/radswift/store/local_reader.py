"""Streaming an object of the local store: one blob, or a manifest's segments in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from radswift.errors import IntegrityError
from radswift.store.base import ObjectInfo, SegmentRef

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BlobPart:
    """One stored blob of an object: known at once (`path`), or resolved when reached."""

    path: Path | None
    size: int
    resolve: Callable[[], Path] | None = None


class LocalReader:
    """An ObjectReader over local blobs. A plain object's blob is opened at once, so a
    concurrent overwrite (which unlinks it) cannot cut the stream short."""

    def __init__(
        self,
        info: ObjectInfo,
        segments: Sequence[SegmentRef] | None,
        parts: Sequence[BlobPart],
        *,
        offset: int = 0,
        length: int | None = None,
    ) -> None:
        self._info = info
        self._segments = segments
        self._parts = list(parts)
        self._offset = offset
        self._length = info.size if length is None else max(length, 0)
        self._first: BinaryIO | None = None
        self._current: BinaryIO | None = None
        if segments is None and self._parts:
            path = self._parts[0].path
            assert path is not None
            self._first = open(path, "rb", buffering=0)  # noqa: SIM115 (closed by close())

    @property
    def info(self) -> ObjectInfo:
        return self._info

    @property
    def segments(self) -> Sequence[SegmentRef] | None:
        return self._segments

    def iter_chunks(self) -> Iterator[bytes]:
        skip, left = self._offset, self._length
        for index, part in enumerate(self._parts):
            if left <= 0:
                break
            if skip >= part.size:
                skip -= part.size
                continue
            handle = self._open(index, part)
            self._current = handle
            count = min(part.size - skip, left)
            try:
                handle.seek(skip)
                yield from _read_exactly(handle, count)
            finally:
                handle.close()
                self._current = None
            skip, left = 0, left - count

    def _open(self, index: int, part: BlobPart) -> BinaryIO:
        if index == 0 and self._first is not None:
            first, self._first = self._first, None
            return first
        path = part.path if part.resolve is None else part.resolve()
        assert path is not None
        try:
            return open(path, "rb", buffering=0)
        except FileNotFoundError:
            raise IntegrityError(f"a segment's bytes are missing from {path.parent}") from None

    def close(self) -> None:
        for handle in (self._first, self._current):
            if handle is not None:
                handle.close()
        self._first = self._current = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _read_exactly(handle: BinaryIO, count: int) -> Iterator[bytes]:
    """Yield `count` bytes of `handle`; a shorter blob is a store fault, not an EOF."""
    while count > 0:
        chunk = handle.read(min(READ_CHUNK, count))
        if not chunk:
            raise IntegrityError("a stored blob is shorter than its index says")
        count -= len(chunk)
        yield chunk
