"""Moving an object's bytes into an open file: one stream, or a large object's segments
in parallel, always verified by MD5 before the caller renames the file into place.

Client CPU per byte decides a transfer's speed when the client shares its cores with
Swift, so the copy loop is lean: a reader that supports `readinto` fills one reused
buffer per thread (no allocation, no page faults, one copy), MD5 runs on that buffer
(hashlib releases the GIL for large updates), and the bytes go out with `os.pwrite`.

A large object (a Swift SLO, or the local store's manifest) is fetched segment by
segment, `segment_workers` at once, each straight from where the segment is stored and
written at its offset: a single stream through the manifest would run on one core,
while the segments' MD5s and the store's work spread over all of them. Each segment
is checked against the MD5 its manifest records, as the sequential path does.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from radswift.errors import IntegrityError
from radswift.store.base import ObjectInfo, ObjectReader, ObjectStore, SegmentRef
from radswift.transfer.hashing import StreamVerifier
from radswift.transfer.progress import Progress

BLOCK_SIZE = 128 * 1024
"""Bytes per read, hash and write. Small enough to stay in the CPU cache between the
socket read, the MD5 and the write: with 1 MiB blocks the kernel spent 4-5 s instead
of 0.8 s of CPU writing a 2 GiB download to the page cache (measured, see
docs/benchmarks.md)."""


class Buffers:
    """One reusable read buffer per thread."""

    def __init__(self, size: int = BLOCK_SIZE) -> None:
        self._size = size
        self._local = threading.local()

    def get(self) -> memoryview:
        view: memoryview | None = getattr(self._local, "view", None)
        if view is None:
            view = self._local.view = memoryview(bytearray(self._size))
        return view


def copy_to_file(
    reader: ObjectReader,
    fd: int,
    offset: int,
    verifier: StreamVerifier,
    progress: Progress,
    buffer: memoryview,
    stop: threading.Event | None = None,
    write_lock: threading.Lock | None = None,
) -> int:
    """Write the reader's remaining bytes to `fd` from `offset`, hashing them; returns the
    offset after the last byte. The caller checks the verifier (`finish`). Setting
    `stop` ends the copy early with InterruptedError."""
    readinto: Callable[[memoryview], int] | None = getattr(reader, "readinto", None)
    if readinto is None:
        for chunk in reader.iter_chunks():
            verifier.update(chunk)
            offset = _pwrite_all(fd, memoryview(chunk), offset)
            progress.advance(len(chunk))
        return offset
    while got := readinto(buffer):
        if stop is not None and stop.is_set():
            raise InterruptedError("the transfer was interrupted")
        view = buffer[:got]
        verifier.update(view)
        if write_lock is None:
            offset = _pwrite_all(fd, view, offset)
        else:
            with write_lock:
                offset = _pwrite_all(fd, view, offset)
        progress.advance(got)
    return offset


def _pwrite_all(fd: int, view: memoryview, offset: int) -> int:
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written
    return offset


class SegmentFetcher:
    """Fetches the segments of large objects on a pool of its own (so object workers
    waiting for their segments cannot starve it), `workers` segments at once."""

    def __init__(self, store: ObjectStore, workers: int, buffers: Buffers) -> None:
        self._store = store
        self._workers = workers
        self.buffers = buffers
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def worthwhile(self, segments: Sequence[SegmentRef] | None) -> bool:
        """Is this a large object, whose segments are best fetched directly?"""
        return bool(segments)

    def fetch(
        self, info: ObjectInfo, segments: Sequence[SegmentRef], fd: int, progress: Progress
    ) -> None:
        """Write every segment at its offset in `fd`; IntegrityError if one differs."""
        if sum(ref.size for ref in segments) != info.size:
            raise IntegrityError(f"{info.name!r}: its segments do not add up to its size")
        pool = self._ensure_pool()
        futures: list[Future[None]] = []
        offset = 0
        lock = threading.Lock()
        for index, ref in enumerate(segments):
            args = (info.name, index, ref, fd, offset, progress, lock)
            futures.append(pool.submit(self._one, *args))
            offset += ref.size
        try:
            for future in futures:
                future.result()
        finally:
            for future in futures:
                future.cancel()
            for future in futures:  # none may still write into fd once we return
                if not future.cancelled():
                    future.exception()

    def _one(
        self,
        name: str,
        index: int,
        ref: SegmentRef,
        fd: int,
        offset: int,
        progress: Progress,
        lock: threading.Lock,
    ) -> None:
        expected = ObjectInfo(name=f"{name} (segment {index})", size=ref.size, etag=ref.etag)
        verifier = StreamVerifier(expected, None)
        with self._store.open_object(ref.container, ref.name) as reader:
            buffer = self.buffers.get()
            copy_to_file(reader, fd, offset, verifier, progress, buffer, self._stop, lock)
        verifier.finish()

    def _ensure_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self._workers, thread_name_prefix="radswift-segment"
                )
            return self._pool

    def close(self, *, interrupted: bool = False) -> None:
        """Stop the pool; after an interruption, running segments stop at their next block
        instead of finishing (which could take minutes for a 1 GiB segment)."""
        if interrupted:
            self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
