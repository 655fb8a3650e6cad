"""What every pman route reaches through `request.app.state.man`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
from fastapi import Request

from radswift.jobmanager import JobManager
from radswift.services.man.metrics import ManMetrics
from radswift.services.man.settings import ManSettings

T = TypeVar("T")


@dataclass
class ManContext:
    manager: JobManager
    settings: ManSettings
    metrics: ManMetrics

    async def blocking(self, func: Callable[..., T], *args: object) -> T:
        """Run a manager call in a worker thread: it may touch the disk or the backend."""
        return await anyio.to_thread.run_sync(func, *args)


def context_of(request: Request) -> ManContext:
    ctx: ManContext = request.app.state.man
    return ctx
