"""Putting objects from a producer that reads its sources one after another.

`run_workers` (pool.py) suits a transfer whose items are known up front: its threads
take the next item themselves. A streamed upload (a pfioh push: an archive being
received) cannot work that way: its entries must be read in order, by the one thread
that receives them, and that thread must never occupy a shared pool thread while it
waits for a slow client. So the producer reads and buffers an entry, then hands its
put to a pool shared with other transfers, while it reads the next one:

    pipeline = PutPipeline(pool, options.workers)
    for ...:
        pipeline.check()                 # the first failed put stops the producer
        with pipeline.slot() as slot:    # waits while `workers` puts of ours run
            body = ...                   # buffered while holding the slot
            slot.run(put, then=body.close)
    pipeline.settle(); pipeline.check()

At most `limit` objects of one producer are in flight (held, buffered or being put),
whatever the pool's size: memory and disk stay bounded, and one transfer cannot take
every thread of a pool shared by many. After `abort()`, puts not yet started do
nothing (the producer's caller then deletes what was stored).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, wait
from contextlib import contextmanager


def _nothing() -> None:
    """A put with nothing to release."""


class Slot:
    """One object's place among the producer's `limit`: released when the put handed
    to `run` has run, or when the `with` block ends without handing one over."""

    def __init__(self, pipeline: PutPipeline) -> None:
        self._pipeline = pipeline
        self.handed = False

    def run(self, put: Callable[[], None], *, then: Callable[[], None] = _nothing) -> None:
        """Run `put` in the pool (unless the pipeline is aborted by then), then `then`
        (release its body), then free the slot."""
        self._pipeline._submit(put, then)
        self.handed = True


class PutPipeline:
    """A producer's puts on a shared executor, at most `limit` at once (module doc)."""

    def __init__(self, pool: Executor, limit: int) -> None:
        self._pool = pool
        self._slots = threading.BoundedSemaphore(limit)
        self._futures: list[Future[None]] = []
        self._aborted = False

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        """Wait for a free slot and hold it for one object (see Slot)."""
        self._slots.acquire()
        slot = Slot(self)
        try:
            yield slot
        finally:
            if not slot.handed:
                self._slots.release()

    def _submit(self, put: Callable[[], None], then: Callable[[], None]) -> None:
        def job() -> None:
            try:
                if not self._aborted:  # the transfer failed meanwhile: store nothing more
                    put()
            finally:
                then()
                self._slots.release()

        self._futures.append(self._pool.submit(job))

    def check(self) -> None:
        """Raise the first failure of a finished put (in the order they were handed over)."""
        for future in self._futures:
            if future.done() and future.exception() is not None:
                exc = future.exception()
                assert exc is not None
                raise exc
        self._futures = [f for f in self._futures if not f.done()]

    def settle(self) -> None:
        """Wait until every put handed over has run."""
        wait(self._futures)

    @property
    def aborted(self) -> bool:
        return self._aborted

    def abort(self) -> None:
        """Let no put start any more, and wait for those running."""
        self._aborted = True
        self.settle()
