"""Reads in progress per area, so a replace deletes the old tree only once they are done.

A pull resolves where an area's tree is (radswift.generation), lists it and then fetches
object after object, for as long as its client reads. A replacing push that switched
the area to its new tree must not delete the old objects from under such a pull: it
would break mid-stream. So each read holds a lease on its area, stamped with the
area's switch count ("epoch") when it began; after switching, the push waits until
every lease from before the switch has ended (reads that begin later see the new tree
and are not waited for), at most `grace` seconds: a client that reads slower than that
holds no one back, its download breaks instead. Leases live in this process (a reader
in another process, such as a job's `publisher get`, is not waited for).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_GRACE_SECONDS = 30.0


class ReadLeases:
    """Thread-safe counts of the reads running per (key, area), by epoch."""

    def __init__(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        self.grace = grace
        self._cond = threading.Condition()
        self._epochs: dict[tuple[str, str], int] = {}
        self._reads: dict[tuple[str, str], Counter[int]] = {}

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

    def switched(self, key: str, area: str) -> bool:
        """Call right after switching the area: waits (at most `grace` seconds) for the
        reads that began before; True if they all ended in time."""
        where = (key, area)
        deadline = time.monotonic() + self.grace
        with self._cond:
            before = self._epochs.get(where, 0)
            self._epochs[where] = before + 1

            def older_done() -> bool:
                return not any(e <= before for e in self._reads.get(where, {}))

            while not older_done():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            if where not in self._reads:
                self._epochs.pop(where, None)  # nothing to tell apart any more
            return True
