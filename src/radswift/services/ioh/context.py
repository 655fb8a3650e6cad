"""What every request handler of one pfioh app shares, and how blocking work is run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import TypeVar

import anyio
from starlette.requests import Request

from radswift.services.ioh.bodypipe import BodyPipe
from radswift.services.ioh.core.resources import Resources
from radswift.services.ioh.http_errors import mark_unread_body
from radswift.services.ioh.metrics import IohMetrics
from radswift.services.ioh.settings import IohSettings
from radswift.store.base import ObjectStore

T = TypeVar("T")
MAX_CONCURRENT_TRANSFERS = 64
"""Pushes/pulls/store calls running at once in worker threads; more wait their turn."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IohContext:
    store: ObjectStore
    settings: IohSettings
    resources: Resources
    metrics: IohMetrics
    limiter: anyio.CapacityLimiter

    async def blocking(self, fn: Callable[..., T], *args: object) -> T:
        """Run a blocking store call in a worker thread."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)

    async def with_body(self, request: Request, work: Callable[[BodyPipe], T]) -> T:
        """Run `work` in a worker thread that reads the request body as a stream."""
        pipe = BodyPipe(asyncio.get_running_loop())

        def job() -> T:
            try:
                return work(pipe)
            finally:
                pipe.abandon()

        pump = asyncio.create_task(pipe.pump(request.stream()))
        try:
            return await anyio.to_thread.run_sync(job, limiter=self.limiter)
        except BaseException:
            if not pipe.complete:
                mark_unread_body(request)  # the error reply then closes the connection
            raise
        finally:
            if not pump.done():
                pump.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await pump


def context_of(request: Request) -> IohContext:
    ctx = request.app.state.ioh
    assert isinstance(ctx, IohContext)
    return ctx
