"""A tar of local files as a seekable, read-only file: the bytes are laid out, never copied.

Why: a store's put needs a seekable body of exact size (it hashes while sending and
rewinds on a retry), and a bundle of a study's 20,000 slices must not be spooled to a
temp file first (twice the disk traffic, and /share may have no room for it). The
layout is computed once from the file list (headers from radswift.archive.write, so a
bundle has the very format of a pulled tar); file contents are read on demand with
pread, so any window of the tar (a segment) can be read, re-read and read concurrently
by several views.

Sources are opened without following links and must still be regular files: a file
swapped for a link or a FIFO after planning raises (never followed, never a hang). A
file whose size differs from the one planned (at open, or when its last byte is
read) raises SourceChanged: the tar header already announced the old size, so
carrying on would store a corrupt bundle.
"""

from __future__ import annotations

import bisect
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, cast

from radswift.archive.model import OutEntry
from radswift.archive.write import tar_header
from radswift.store.ranged import SeekableWindow

BLOCK = 512
RECORD = 20 * BLOCK


class SourceChanged(OSError):
    """A local file changed (size, or kind) while the bundle was being read (an OSError so
    that a store's upload body passes it through as a local read failure, never retried).
    `filename` is the file's path."""


_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
"""A file swapped for a symbolic link after planning is an error (ELOOP), not followed;
one swapped for a FIFO opens at once (no writer needed) and is then refused by fstat."""


def _changed(path: str, message: str) -> SourceChanged:
    error = SourceChanged(message)
    error.strerror, error.filename = message, path  # as os.open's errors carry them
    return error


@dataclass(frozen=True, slots=True)
class LayoutEntry:
    """One entry to lay out: `source` is the local file to read (None for a directory)."""

    path: str
    size: int
    mtime: float
    source: str | None
    mode: int = 0o644


def _not_streamed() -> Iterable[bytes]:
    raise AssertionError("a laid-out entry's bytes are read through TarView")


class TarLayout:
    """Where every byte of the tar comes from: header bytes, a file's range, or zeros."""

    def __init__(self, entries: Sequence[LayoutEntry]) -> None:
        self.starts: list[int] = []
        self._pieces: list[bytes | tuple[str, int] | int] = []
        """bytes: literal header bytes; (path, size): file content; int: that many zeros."""
        offset = 0
        for entry in entries:
            out = OutEntry(
                path=entry.path,
                size=entry.size,
                mtime=entry.mtime,
                chunks=None if entry.source is None else _not_streamed,
                mode=entry.mode,
            )
            offset = self._add(offset, tar_header(out))
            if entry.source is not None and entry.size:
                offset = self._add(offset, (entry.source, entry.size))
                offset = self._add(offset, -entry.size % BLOCK)
        offset = self._add(offset, 2 * BLOCK)
        self.size = self._add(offset, -offset % RECORD)

    def _add(self, offset: int, piece: bytes | tuple[str, int] | int) -> int:
        if isinstance(piece, tuple):
            length = piece[1]
        else:
            length = piece if isinstance(piece, int) else len(piece)
        if length:
            self.starts.append(offset)
            self._pieces.append(piece)
        return offset + length

    def piece(self, index: int) -> bytes | tuple[str, int] | int:
        return self._pieces[index]

    def locate(self, offset: int) -> int:
        """Index of the piece holding byte `offset` (0 <= offset < size)."""
        return bisect.bisect_right(self.starts, offset) - 1


class TarView(SeekableWindow):
    """Bytes [start, start + length) of a TarLayout as a seekable read-only file.

    Positions are relative to the window; reading past its end returns b"". Not
    thread-safe: give every concurrent reader (segment upload) a view of its own."""

    def __init__(self, layout: TarLayout, start: int = 0, length: int | None = None) -> None:
        super().__init__()
        self._layout = layout
        self._start = start
        self._length = layout.size - start if length is None else length
        if start < 0 or self._length < 0 or start + self._length > layout.size:
            raise ValueError(f"window {start}+{self._length} outside a tar of {layout.size}")
        self._pos = 0
        self._fd: int | None = None
        self._fd_path: str | None = None

    def as_binary(self) -> BinaryIO:
        """This view typed as the BinaryIO a store's put takes (it reads, seeks and tells)."""
        return cast(BinaryIO, self)

    @property
    def _extent(self) -> int:
        return self._length

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """Fill `buffer` as far as the window allows, across pieces."""
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._length - self._pos)
        done = 0
        while done < want:
            done += self._read_at(self._start + self._pos + done, view[done:want])
        self._pos += done
        return done

    def _read_at(self, offset: int, out: memoryview) -> int:
        index = self._layout.locate(offset)
        piece = self._layout.piece(index)
        within = offset - self._layout.starts[index]
        if isinstance(piece, int):
            n = min(piece - within, len(out))
            out[:n] = bytes(n)
            return n
        if isinstance(piece, bytes):
            n = min(len(piece) - within, len(out))
            out[:n] = piece[within : within + n]
            return n
        return self._read_file(piece[0], piece[1], within, out)

    def _read_file(self, path: str, size: int, within: int, out: memoryview) -> int:
        fd = self._open(path, size)
        n = min(size - within, len(out))
        got = os.preadv(fd, [out[:n]], within)
        if got != n:
            raise _changed(path, f"{path} shrank while the bundle was being read")
        if within + n == size:
            _check_size(fd, path, size)
        return got

    def _open(self, path: str, size: int) -> int:
        if self._fd_path == path and self._fd is not None:
            return self._fd
        self._close_fd()
        fd = os.open(path, _OPEN_FLAGS)
        self._fd, self._fd_path = fd, path
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _changed(path, f"{path} is no longer a regular file")
        _check_size(fd, path, size)
        return fd

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = self._fd_path = None

    def close(self) -> None:
        self._close_fd()
        super().close()


def _check_size(fd: int, path: str, size: int) -> None:
    now = os.fstat(fd).st_size
    if now != size:
        raise _changed(path, f"{path} changed size while being read ({size} -> {now} bytes)")
