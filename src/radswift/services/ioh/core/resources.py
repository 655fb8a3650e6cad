"""Shared, bounded resources of a pfioh process: thread pools and a memory budget."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from radswift.services.ioh.core.claims import PushClaims
from radswift.services.ioh.core.leases import PendingDeletes, ReadLeases
from radswift.services.ioh.settings import Tuning


class MemoryBudget:
    """Bytes that pushes may hold in memory at once; beyond it they spool to disk.

    Non-blocking on purpose: a push that gets no budget spools instead of waiting, so the
    budget can never deadlock a push against another.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._used = 0
        self._lock = threading.Lock()

    def try_acquire(self, nbytes: int) -> bool:
        with self._lock:
            if self._used + nbytes > self._limit:
                return False
            self._used += nbytes
            return True

    def release(self, nbytes: int) -> None:
        with self._lock:
            self._used -= nbytes

    @property
    def used(self) -> int:
        with self._lock:
            return self._used


@dataclass(frozen=True, slots=True, kw_only=True)
class Resources:
    """What every push and pull of one app shares: puts and gets run in separate pools
    so a flood of pulls cannot starve pushes (and the reverse)."""

    tuning: Tuning
    put_pool: ThreadPoolExecutor
    get_pool: ThreadPoolExecutor
    budget: MemoryBudget
    claims: PushClaims
    leases: ReadLeases
    cleanup_pool: ThreadPoolExecutor
    """Deletes trees that replaces switched away from, once their readers are done."""
    pending: PendingDeletes

    @classmethod
    def create(cls, tuning: Tuning) -> Resources:
        return cls(
            tuning=tuning,
            put_pool=ThreadPoolExecutor(tuning.pool_workers, thread_name_prefix="ioh-put"),
            get_pool=ThreadPoolExecutor(tuning.pool_workers, thread_name_prefix="ioh-get"),
            budget=MemoryBudget(tuning.memory_budget),
            claims=PushClaims(),
            leases=ReadLeases(),
            cleanup_pool=ThreadPoolExecutor(4, thread_name_prefix="ioh-cleanup"),
            pending=PendingDeletes(),
        )

    def close(self) -> None:
        self.leases.close()  # pending deletions run now rather than wait for readers
        self.cleanup_pool.shutdown(wait=True)
        self.put_pool.shutdown(wait=True, cancel_futures=True)
        self.get_pool.shutdown(wait=True, cancel_futures=True)
