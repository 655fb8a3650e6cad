"""Unpacking a pulled archive into a directory, with the disk work off the network path.

A pull is one thread reading the HTTP body and parsing the tar; creating, writing and
renaming a file costs about as much again (ext4 under writeback pressure stalls an
`open` for milliseconds). Done inline, the socket sits idle meanwhile and the server
stalls behind it. So each small file, once received whole, is handed to a few writer
threads, bounded by `ahead_bytes` of received-but-unwritten data; big files stream
straight to disk in the reading thread (their bytes would not fit the bound).

Every file is written under a temporary name (created exclusively) and renamed into
place only when complete; a failed file leaves no temporary behind. Progress calls
stay in the calling thread (a Progress need not be thread-safe).
"""

from __future__ import annotations

import os
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radswift.errors import UnsafeArchive
from radswift.transfer.progress import Progress

MiB = 1024 * 1024
WRITERS = 4
"""Writer threads: enough to overlap a few stalled opens with the network."""
AHEAD_BYTES = 32 * MiB
"""Received bytes waiting for a writer, at most (bounds the client's memory)."""
SMALL_FILE = 8 * MiB
"""Files up to this size are gathered in memory and written by a writer thread."""
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class PullResult:
    files: int
    directories: int
    bytes: int


@dataclass(slots=True)
class _Pending:
    future: Future[int]
    size: int
    path: str


class _Unpacker:
    """The state of one unpack: directories made, writes in flight, counts."""

    def __init__(
        self, dest: Path, progress: Progress, pool: ThreadPoolExecutor, ahead_bytes: int
    ) -> None:
        self.root = dest.resolve()
        self.progress = progress
        self.pool = pool
        self.ahead_bytes = ahead_bytes
        self.pending: deque[_Pending] = deque()
        self.pending_bytes = 0
        self.made: set[Path] = set()
        self.files = self.dirs = self.total = 0

    def directory(self, rel: str) -> None:
        target = _inside(self.root, rel)
        target.mkdir(parents=True, exist_ok=True)
        self.made.add(target)
        self.dirs += 1

    def file(self, rel: str, size: int, chunks: Iterator[bytes]) -> None:
        target = _inside(self.root, rel)
        if target.parent not in self.made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(target.parent)
        if size > SMALL_FILE:
            self.total += write_file(target, self._advancing(chunks))
            self._done(rel)
            return
        data = list(self._advancing(chunks))
        while self.pending and (
            self.pending_bytes + size > self.ahead_bytes or self.pending[0].future.done()
        ):
            self._harvest()
        self.pending.append(_Pending(self.pool.submit(write_file, target, data), size, rel))
        self.pending_bytes += size

    def finish(self) -> PullResult:
        while self.pending:
            self._harvest()
        return PullResult(files=self.files, directories=self.dirs, bytes=self.total)

    def abandon(self) -> None:
        """After an error: let the writes of files received whole finish (as an inline
        unpack would have written them before the failure), without raising their errors."""
        for item in self.pending:
            item.future.exception()
        self.pending.clear()

    def _advancing(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.progress.advance(len(chunk))
            yield chunk

    def _harvest(self) -> None:
        item = self.pending.popleft()
        self.pending_bytes -= item.size
        self.total += item.future.result()
        self._done(item.path)

    def _done(self, rel: str) -> None:
        self.files += 1
        self.progress.file_done(rel, True)


def unpack_into(
    dest: Path,
    entries: Iterable[tuple[Any, Iterator[bytes] | None]],
    progress: Progress,
    *,
    writers: int = WRITERS,
    ahead_bytes: int = AHEAD_BYTES,
) -> PullResult:
    """Write archive entries under `dest`: temp name first, then an atomic rename."""
    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="unpack") as pool:
        unpacker = _Unpacker(dest, progress, pool, ahead_bytes)
        try:
            for entry, chunks in entries:
                if chunks is None:
                    unpacker.directory(entry.path)
                else:
                    unpacker.file(entry.path, entry.size, chunks)
            return unpacker.finish()
        except BaseException:
            unpacker.abandon()
            raise


def write_file(target: Path, chunks: Iterable[bytes]) -> int:
    """Write `chunks` to `target` through an exclusive temporary name; the bytes written."""
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
    written = 0
    try:
        fd = os.open(temp, _WRITE_FLAGS, 0o666)
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    done = os.write(fd, view)
                    view = view[done:]
                written += len(chunk)
        finally:
            os.close(fd)
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return written


def _inside(root: Path, rel: str) -> Path:
    """`root/rel`, refusing any existing symlink on the way (it could point outside)."""
    target = root
    for part in rel.split("/"):
        target = target / part
        if target.is_symlink():
            raise UnsafeArchive(f"{target} is a symbolic link; refusing to write through it")
    return target
