"""What every request handler of one pfioh app shares, and how blocking work is run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import TypeVar

import anyio
from starlette.requests import Request

from radswift.services.ioh.admission import PushAdmission
from radswift.services.ioh.bodypipe import BodyPipe
from radswift.services.ioh.core.resources import Resources
from radswift.services.ioh.http_errors import mark_unread_body
from radswift.services.ioh.metrics import IohMetrics
from radswift.services.ioh.settings import IohSettings
from radswift.store.base import ObjectStore

T = TypeVar("T")
MAX_CONCURRENT_STORE_CALLS = 32
"""Short store calls (listings, status, opening a read) running at once in worker
threads; more wait their turn. Uploads never take these (see with_body)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IohContext:
    store: ObjectStore
    settings: IohSettings
    resources: Resources
    metrics: IohMetrics
    limiter: anyio.CapacityLimiter
    """For short store calls (blocking); uploads have their own (upload_limiter)."""
    upload_limiter: anyio.CapacityLimiter
    admission: PushAdmission

    @classmethod
    def create(
        cls, *, store: ObjectStore, settings: IohSettings, resources: Resources, metrics: IohMetrics
    ) -> IohContext:
        tuning = settings.tuning
        return cls(
            store=store,
            settings=settings,
            resources=resources,
            metrics=metrics,
            limiter=anyio.CapacityLimiter(MAX_CONCURRENT_STORE_CALLS),
            upload_limiter=anyio.CapacityLimiter(tuning.max_pushes),
            admission=PushAdmission(
                total=tuning.max_pushes,
                per_client=tuning.max_pushes_per_client,
                per_key=tuning.max_pushes_per_key,
            ),
        )

    async def blocking(self, fn: Callable[..., T], *args: object) -> T:
        """Run a short blocking store call in a worker thread (never behind uploads)."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)

    async def with_body(
        self, request: Request, work: Callable[[BodyPipe], T], *, key: str | None = None
    ) -> T:
        """Run `work` in a worker thread that reads the request body as a stream, if the
        upload is admitted (see admission.py: else Overloaded at once)."""
        client = request.client.host if request.client else ""
        with self.admission.admit(client, key):
            return await self._with_body(request, work)

    async def _with_body(self, request: Request, work: Callable[[BodyPipe], T]) -> T:
        pipe = BodyPipe(
            asyncio.get_running_loop(), idle_timeout=self.settings.tuning.body_idle_timeout
        )

        def job() -> T:
            try:
                return work(pipe)
            finally:
                pipe.abandon()

        pump = asyncio.create_task(pipe.pump(request.stream()))
        try:
            return await anyio.to_thread.run_sync(job, limiter=self.upload_limiter)
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
