"""A stored object as a read-only, seekable file that fetches only the windows read.

Why: to read a DICOM header (a few KiB at the start of a slice of hundreds of KiB), or
the tar headers of a bundle, nobody should download the whole object. A parser
(pydicom, tarfile) reads this file as it would a local one; every read that misses the
buffered window asks the store for a bounded range (`open_object(offset, length)`),
at least `window` bytes. A read that continues the buffer (a header longer than the
first window) doubles the next window, so a long header costs a few requests, not one
per tag; a jump elsewhere (the next tar entry) starts again at `window`.

The bytes are not checked against a checksum (a range has none to compare with: the
ETag covers the whole object), so this is for looking (listings), never for copying.
`fetched` and `requests` say what it cost; `view(start, size)` is a file over a part of
the object (a tar member) that shares the buffer, so a window fetched for a tar header
also serves the first bytes of its member.
"""

from __future__ import annotations

import io

from radswift.store.base import ObjectStore

DEFAULT_WINDOW = 4096
MAX_WINDOW = 8 * 1024 * 1024
KEEP_BEHIND = 64 * 1024
"""Bytes kept before the position when the buffer grows (parsers seek back a little)."""


class SeekableWindow(io.RawIOBase):
    """A read-only raw file of `_extent` bytes whose position is `_pos`: the seeking that
    RangedFile here and bundle.layout.TarView share; subclasses read (`readinto`)."""

    _pos: int

    @property
    def _extent(self) -> int:
        raise NotImplementedError

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._extent}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos


class RangedFile(SeekableWindow):
    """Object `name` of `container` (of `size` bytes) as a file; see the module docstring."""

    def __init__(
        self,
        store: ObjectStore,
        container: str,
        name: str,
        size: int,
        *,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        super().__init__()
        self._store, self._container, self._name, self._size = store, container, name, size
        self._window = self._next = max(window, 1)
        self._buffer = b""
        self._start = 0  # object offset of self._buffer[0]
        self._pos = 0
        self.fetched = 0
        self.requests = 0

    @property
    def size(self) -> int:
        return self._size

    @property
    def name(self) -> str:
        """The object's name (parsers such as pydicom label what they read with it)."""
        return self._name

    @property
    def _extent(self) -> int:
        return self._size

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        end = min(self._pos + len(view), self._size)
        if end <= self._pos:
            return 0
        if not (self._start <= self._pos and end <= self._start + len(self._buffer)):
            self._fill(end)
        got = end - self._pos
        begin = self._pos - self._start
        view[:got] = self._buffer[begin : begin + got]
        self._pos = end
        return got

    def _fill(self, end: int) -> None:
        """Make the buffer cover [pos, end): extend it if pos lies in it, else replace it."""
        buffered_end = self._start + len(self._buffer)
        continues = bool(self._buffer) and self._start <= self._pos <= buffered_end
        first = buffered_end if continues else self._pos
        if not continues:
            self._next = self._window
        length = min(max(end - first, self._next), self._size - first)
        with self._store.open_object(
            self._container, self._name, offset=first, length=length
        ) as reader:
            data = b"".join(reader.iter_chunks())
        self.requests += 1
        self.fetched += len(data)
        if continues:
            keep = max(self._start, self._pos - KEEP_BEHIND)  # the buffer stays bounded
            self._buffer = self._buffer[keep - self._start :] + data
            self._start = keep
            self._next = min(self._next * 2, MAX_WINDOW)
        else:
            self._buffer, self._start = data, first
        if self._start + len(self._buffer) < end:
            raise EOFError(f"{self._name} is shorter than its listed {self._size} bytes")

    def view(self, start: int, size: int) -> io.BufferedReader:
        """A file over bytes [start, start + size) of the object, sharing this buffer."""
        return io.BufferedReader(_View(self, start, size), buffer_size=512)


class _View(io.RawIOBase):
    """A part of a RangedFile as a file of its own (positions relative to `start`)."""

    def __init__(self, parent: RangedFile, start: int, size: int) -> None:
        super().__init__()
        self._parent, self._base, self._size, self._pos = parent, start, size, 0

    @property
    def name(self) -> str:
        return f"{self._parent.name}@{self._base}"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")[: max(0, self._size - self._pos)]
        if not len(view):
            return 0
        self._parent.seek(self._base + self._pos)
        got = self._parent.readinto(view)
        self._pos += got
        return got
