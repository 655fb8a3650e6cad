"""What every pman route reaches through `request.app.state.man`."""

from __future__ import annotations

import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
from fastapi import Request

from radswift.errors import Overloaded
from radswift.jobmanager import JobManager
from radswift.services.man.metrics import ManMetrics
from radswift.services.man.settings import ManSettings

T = TypeVar("T")
MAX_FOLLOWERS = 16
"""`follow=true` log streams at once. Each holds a thread while it waits for new lines,
so they get their own small limiter: stalled followers can never take the threads every
other route needs (the default pool has 40); past the cap a follow is a 429."""
_END = object()
FIRST_POLL = 0.02
MAX_POLL = 0.5
"""Seconds between a waiting client's looks at its job: doubled from FIRST_POLL."""


@dataclass
class ManContext:
    manager: JobManager
    settings: ManSettings
    metrics: ManMetrics
    followers: anyio.CapacityLimiter = field(
        default_factory=lambda: anyio.CapacityLimiter(MAX_FOLLOWERS)
    )
    open_follows: int = field(default=0, init=False)
    _follows_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    async def blocking(self, func: Callable[..., T], *args: object) -> T:
        """Run a manager call in a worker thread: it may touch the disk or the backend."""
        return await anyio.to_thread.run_sync(func, *args)

    async def until_finished(self, jid: str, timeout: float) -> None:
        """Until the job has finished, or `timeout` seconds: on the event loop, looking at
        the registry now and then (a thread each time, for a moment), so that waiting
        clients hold no worker thread. NotFound if the job is deleted meanwhile."""
        pause = FIRST_POLL
        with anyio.move_on_after(timeout):
            while not (await self.blocking(self.manager.registry.get, jid)).state.finished:
                await anyio.sleep(pause)
                pause = min(pause * 2, MAX_POLL)

    def follow(self, chunks: Iterator[str]) -> AsyncIterator[str]:
        """Stream a followed log on the followers' own threads (see MAX_FOLLOWERS). Every
        open stream counts, not only those busy in a thread at this moment; a stream is
        closed when it ends, its client goes, or it is dropped unstarted."""
        with self._follows_lock:
            busy = self.followers.borrowed_tokens >= self.followers.total_tokens
            if busy or self.open_follows >= MAX_FOLLOWERS:
                raise Overloaded(
                    f"{MAX_FOLLOWERS} log streams are followed already: try again later",
                    reason="too_many_followers",
                )
            self.open_follows += 1
        released = threading.Event()

        def release() -> None:
            with self._follows_lock:
                if not released.is_set():
                    released.set()
                    self.open_follows -= 1

        stream = self._follow(chunks, release)
        weakref.finalize(stream, release)  # never started: no `finally` will run
        return stream

    async def _follow(
        self, chunks: Iterator[str], release: Callable[[], None]
    ) -> AsyncIterator[str]:
        try:
            while True:
                chunk = await anyio.to_thread.run_sync(next, chunks, _END, limiter=self.followers)
                if chunk is _END:
                    return
                if chunk:  # "" is read_log's keep-alive: a disconnect is noticed between chunks
                    yield str(chunk)
        finally:
            release()


def context_of(request: Request) -> ManContext:
    ctx: ManContext = request.app.state.man
    return ctx
