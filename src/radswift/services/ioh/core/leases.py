"""Reads in progress per area, so a replace deletes the old tree only once they are done.

A pull resolves where an area's tree is (radswift.generation), lists it and then fetches
object after object, for as long as its client reads. A replacing push that switched
the area to its new tree must not delete the old objects from under such a pull: it
would break mid-stream. So each read holds a lease on its area, stamped with the
area's switch count ("epoch") when it began; after switching, the push waits for the
leases from before the switch (reads that begin later see the new tree and are not
waited for). It waits a moment itself (most reads are done by then); if some are still
running, the deletion moves to a background thread that waits at most `grace` seconds
(core/replace.retire): a client that reads slowly or not at all delays no push, and
loses its download only if it is slower than that. Leases live in this process (a
reader in another process, such as a job's `publisher get`, is not waited for).

A deletion left waiting must never outlive the next write to its key: the next push
could store names of the old tree again (a bundle after a bundle, a first push after a
key delete). So every writer of a key first runs the deletions pending on it
(PendingDeletes.flush): the slow reader loses its download, no new object is lost.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

DEFAULT_GRACE_SECONDS = 600.0


class ReadLeases:
    """Thread-safe counts of the reads running per (key, area), by epoch."""

    def __init__(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        self.grace = grace
        self._cond = threading.Condition()
        self._epochs: dict[tuple[str, str], int] = {}
        self._reads: dict[tuple[str, str], Counter[int]] = {}
        self._closed = False

    @contextmanager
    def reading(self, key: str, area: str) -> Iterator[None]:
        """Hold a lease on `key`/`area` while the block runs (take it BEFORE resolving)."""
        where = (key, area)
        with self._cond:
            epoch = self._epochs.get(where, 0)
            self._reads.setdefault(where, Counter())[epoch] += 1
        try:
            yield
        finally:
            with self._cond:
                reads = self._reads[where]
                reads[epoch] -= 1
                if reads[epoch] <= 0:
                    del reads[epoch]
                if not reads:
                    del self._reads[where]
                self._cond.notify_all()

    def switch(self, key: str, area: str) -> int:
        """Call right after switching the area; returns the epoch to `wait` for."""
        with self._cond:
            before = self._epochs.get((key, area), 0)
            self._epochs[(key, area)] = before + 1
            return before

    def wait(self, key: str, area: str, before: int, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) until no read of epoch `before` or earlier
        runs on the area; True if none does (False on timeout, or once closed)."""
        where = (key, area)
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(e <= before for e in self._reads.get(where, {})):
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return False
                self._cond.wait(left)
            if where not in self._reads and self._epochs.get(where) == before + 1:
                del self._epochs[where]  # nothing to tell apart any more
            return True

    def close(self) -> None:
        """Stop every wait (the service is stopping)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class PendingDeletes:
    """Deletions of replaced trees waiting for slow readers, per key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, dict[int, Callable[[], None]]] = {}
        self._next = 0

    def add(self, key: str, delete: Callable[[], None]) -> Callable[[], None]:
        """Register `delete`; returns the function that runs it unless already run."""
        with self._lock:
            token = self._next
            self._next += 1
            self._pending.setdefault(key, {})[token] = delete
        return lambda: self._run(key, token)

    def flush(self, key: str) -> None:
        """Run every deletion pending on `key` now (a writer is about to start)."""
        with self._lock:
            tokens = list(self._pending.get(key, {}))
        for token in tokens:
            self._run(key, token)

    def _run(self, key: str, token: int) -> None:
        with self._lock:
            delete = self._pending.get(key, {}).pop(token, None)
            if key in self._pending and not self._pending[key]:
                del self._pending[key]
        if delete is not None:
            delete()
