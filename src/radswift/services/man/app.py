"""The pman ASGI app: the REST API, the ChRIS pman shape, /healthz and /metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import Response

from radswift.jobmanager import JobManager
from radswift.services.ioh.http_errors import install_error_handlers
from radswift.services.ioh.middleware import TokenAuth
from radswift.services.man import chris, routes
from radswift.services.man.context import ManContext, context_of
from radswift.services.man.limits import BodyLimit
from radswift.services.man.metrics import CONTENT_TYPE_LATEST, ManMetrics
from radswift.services.man.schemas import Health
from radswift.services.man.settings import ManSettings

log = logging.getLogger("radswift.services.man")

DESCRIPTION = """The process manager: runs a plugin's image between radswift's `get`
(the key's `input/` into `/share/incoming`) and `publish` (`/share/outgoing` into the
key's `output/`) on a compute backend, and keeps every job in a registry that survives
restarts. States: notstarted, started, finishedSuccessfully, finishedWithError,
undefined. Errors are JSON `{"error", "detail"}`. The ChRIS pman 3-6 shape is served on
`/api/v1/` and `/api/v1/<jid>/`."""


def create_app(manager: JobManager, settings: ManSettings, *, manage: bool = True) -> FastAPI:
    """A pman app over `manager`; with `manage`, the app starts the manager when it starts
    and closes it (and its registry) when it stops."""
    metrics = ManMetrics(manager)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.tokens is None:
            log.warning(
                "TOKEN AUTH IS OFF: anyone who can reach this port can run jobs "
                "(start with --enableTokenAuth)"
            )
        if manage:
            await anyio.to_thread.run_sync(manager.start)
        try:
            yield
        finally:
            if manage:
                await anyio.to_thread.run_sync(manager.close)
                running = manager.registry.active()
                manager.registry.close()
                log.warning("stopped; %d job(s) left running, the next start follows them", running)

    app = FastAPI(
        title="pman (radswift)",
        version=settings.version,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.man = ManContext(manager=manager, settings=settings, metrics=metrics)
    install_error_handlers(app)
    app.include_router(routes.router)
    app.add_api_route(
        "/healthz",
        _healthz,
        methods=["GET"],
        response_model=Health,
        summary="Liveness (never needs a token)",
    )
    app.add_api_route(
        "/metrics", _metrics, methods=["GET"], summary="Prometheus metrics", response_class=Response
    )
    app.include_router(chris.router)  # last: its /api/v1/{jid}/ would match anything
    app.add_middleware(BodyLimit)
    if settings.tokens is not None:
        app.add_middleware(TokenAuth, tokens=settings.tokens)
    return app


async def _healthz(request: Request) -> Health:
    ctx = context_of(request)
    return Health(
        name=ctx.settings.name,
        version=ctx.settings.version,
        backend=ctx.settings.backend,
        storage=ctx.settings.storage,
    )


async def _metrics(request: Request) -> Response:
    return Response(context_of(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
