"""Progress reporting: a callback object the engine calls, with a no-op default.

The engine never prints; a front end (the CLI's rich bar, a service's counters)
implements `Progress`. Calls come from many worker threads at once, so an
implementation must be thread-safe.
"""

from __future__ import annotations

from typing import BinaryIO, Protocol


class Progress(Protocol):
    def set_total(self, files: int, bytes: int) -> None:
        """The size of the whole transfer, known once it is planned."""
        ...

    def advance(self, nbytes: int) -> None:
        """`nbytes` more bytes moved (may be called many times per file)."""
        ...

    def file_done(self, path: str, ok: bool) -> None:
        """One file (or object) finished, well or not."""
        ...


class NullProgress:
    """Reports nowhere."""

    def set_total(self, files: int, bytes: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def file_done(self, path: str, ok: bool) -> None:
        pass


class ProgressReader:
    """A seekable file wrapper that reports each read to a Progress (for uploads, where
    the store consumes the body itself). A rewind on retry counts bytes twice: the bar
    may run ahead, never the data."""

    def __init__(self, raw: BinaryIO, progress: Progress) -> None:
        self._raw = raw
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._progress.advance(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()
