"""Which uploads pfioh takes on now: caps on pushes in flight, in all, per client, per key.

Why: an upload holds a worker thread for as long as its client sends (see bodypipe.py),
so without caps a few clients that start uploads and then stall could take every
thread. Each cap refuses at once (Overloaded, 429 with Retry-After) instead of queueing:
a queued request would wait behind the very uploads that stall. Together with the body
idle timeout (an upload that sends nothing for a while is aborted) this bounds what a
handful of stalled clients can hold: `per_client` threads each, for at most the timeout.
Listings, status and small reads never wait for these: they run under their own
limiter (context.IohContext.blocking).

A client is its peer address: behind a reverse proxy every client is the proxy, so
raise `per_client` there (or let the proxy cap its clients).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from radswift.errors import Overloaded


class PushAdmission:
    """Counts the uploads in flight; `admit` refuses one beyond any cap."""

    def __init__(self, *, total: int, per_client: int, per_key: int) -> None:
        self.total = total
        self.per_client = per_client
        self.per_key = per_key
        self._lock = threading.Lock()
        self._running = 0
        self._clients: Counter[str] = Counter()
        self._keys: Counter[str] = Counter()

    @contextmanager
    def admit(self, client: str, key: str | None) -> Iterator[None]:
        """Hold a place for one upload from `client` to `key` (None: not known yet, as
        for a legacy push whose key is in its form) while the block runs."""
        with self._lock:
            self._check(client, key)
            self._running += 1
            self._clients[client] += 1
            if key is not None:
                self._keys[key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                _drop(self._clients, client)
                if key is not None:
                    _drop(self._keys, key)

    def _check(self, client: str, key: str | None) -> None:
        if self._running >= self.total:
            raise Overloaded(
                f"the service is running its maximum of {self.total} uploads; retry later",
                reason="busy",
            )
        if self._clients[client] >= self.per_client:
            raise Overloaded(
                f"this client already has {self.per_client} uploads running; "
                "retry when one has finished",
                reason="client_busy",
            )
        if key is not None and self._keys[key] >= self.per_key:
            raise Overloaded(
                f"the key {key!r} already has {self.per_key} uploads running; "
                "retry when one has finished",
                reason="key_busy",
            )


def _drop(counter: Counter[str], name: str) -> None:
    counter[name] -= 1
    if counter[name] <= 0:
        del counter[name]
