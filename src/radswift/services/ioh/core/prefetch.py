"""Fetching small objects ahead of the archive writer, in parallel and in order.

An archive is written one entry after another, but one GET per small object at a time
would leave the store idle between requests (per-object latency dominates 512 KiB DICOM
files). The prefetcher keeps up to `window` bytes of the next small objects downloading
in the get pool (at most `ahead` objects, about the parallelism Swift rewards on a small
machine), within the process-wide memory budget shared with pushes; large objects, and
small ones when memory is short, are streamed when their turn comes.
Every object is checked against the MD5s the store vouches for (the transfer engine's
VerifiedChunks, radswift.transfer.hashing; core/verify.py says why it matters here): a
prefetched one before any of its bytes is served, a streamed one at its end; either way
a mismatch aborts the archive before its end is written.

Why this is not the transfer engine's download (transfer/download.py, fetch.py): that
writes each object into a file of its own, in any order, on threads of its own; an
archive needs the objects one after another, in memory, on a pool shared with every
other request. What both need alike, the check against the MD5s, is the engine's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from radswift.services.ioh.core.resources import MemoryBudget
from radswift.store.base import ObjectInfo, ObjectStore
from radswift.transfer.hashing import VerifiedChunks


class Prefetcher:
    """Serves each object's bytes in listing order; small ones come from memory."""

    def __init__(
        self,
        store: ObjectStore,
        key: str,
        infos: Sequence[ObjectInfo],
        *,
        pool: ThreadPoolExecutor,
        window: int,
        ahead: int,
        small: int,
        budget: MemoryBudget,
        on_bytes: Callable[[int], None],
    ) -> None:
        self._store = store
        self._key = key
        self._infos = infos
        self._pool = pool
        self._window = window
        self._ahead = ahead
        self._small = small
        self._budget = budget
        self._on_bytes = on_bytes
        self._next = 0
        self._in_flight = 0
        self._futures: dict[str, Future[list[bytes]]] = {}
        self._sizes: dict[str, int] = {}
        self._index = {info.name: i for i, info in enumerate(infos)}

    def chunks(self, info: ObjectInfo) -> Iterator[bytes]:
        """The bytes of `info` (which must come in listing order)."""
        future = self._futures.pop(info.name, None)
        if future is not None:
            try:
                data = future.result()
            finally:
                self._in_flight -= info.size
                self._budget.release(self._sizes.pop(info.name))
            self._fill()
            self._on_bytes(info.size)
            yield from data
            return
        self._next = max(self._next, self._index[info.name] + 1)  # never fetch it later
        self._fill()
        with self._store.open_object(self._key, info.name) as reader:
            chunks = VerifiedChunks(reader, self._on_bytes)
            yield from chunks
            chunks.finish()

    def start(self) -> None:
        self._fill()

    def close(self) -> None:
        """Drop what was fetched ahead (the client went away, or the archive failed)."""
        for name, future in self._futures.items():
            future.cancel()
            self._budget.release(self._sizes[name])
        self._futures.clear()

    def _fill(self) -> None:
        while self._next < len(self._infos):
            info = self._infos[self._next]
            if info.size > self._small or info.is_directory_marker:
                self._next += 1
                continue
            if self._in_flight and (
                self._in_flight + info.size > self._window or len(self._futures) >= self._ahead
            ):
                return
            if not self._budget.try_acquire(info.size):
                return  # memory is short: this one is streamed when its turn comes
            self._sizes[info.name] = info.size
            self._futures[info.name] = self._pool.submit(_fetch, self._store, self._key, info.name)
            self._in_flight += info.size
            self._next += 1


def _fetch(store: ObjectStore, key: str, name: str) -> list[bytes]:
    with store.open_object(key, name) as reader:
        chunks = VerifiedChunks(reader)
        data = list(chunks)
        chunks.finish()
        return data
