"""The pfioh ASGI app: the REST API, the legacy protocol, /healthz and /metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import Response

from radswift.services.ioh import legacy
from radswift.services.ioh.context import MAX_CONCURRENT_TRANSFERS, IohContext, context_of
from radswift.services.ioh.core.resources import Resources
from radswift.services.ioh.http_errors import install_error_handlers
from radswift.services.ioh.metrics import CONTENT_TYPE_LATEST, IohMetrics
from radswift.services.ioh.middleware import OneShot, RequestMetrics, TokenAuth
from radswift.services.ioh.routes import router
from radswift.services.ioh.schemas import Health
from radswift.services.ioh.settings import IohSettings
from radswift.store.base import ObjectStore

log = logging.getLogger("radswift.services.ioh")

DESCRIPTION = """File IO for image-processing jobs: push a study tree to a key's `input/`,
pull a job's `output/`, over OpenStack Swift (or a local store). One object per file,
or (`?layout=bundle`) the whole tree as one tar object, much faster for many small files;
archives are unpacked and built as streams. Errors are JSON `{"error", "detail"}`.
The legacy pfioh protocol (pfurl) is served on `/api/v1/cmd`."""


def create_app(
    store: ObjectStore,
    settings: IohSettings,
    *,
    stop: Callable[[], None] | None = None,
    close_store: bool = False,
) -> FastAPI:
    """A pfioh app over `store`. `stop` is called after the first request in one-shot
    mode; `close_store` closes the store at shutdown (when the app owns it)."""
    metrics = IohMetrics()
    resources = Resources.create(settings.tuning)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.tokens is None:
            log.warning(
                "TOKEN AUTH IS OFF: anyone who can reach this port can read, "
                "write and delete every key (start with --enableTokenAuth)"
            )
        yield
        resources.close()
        if close_store:
            store.close()

    app = FastAPI(
        title="pfioh (radswift)",
        version=settings.version,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.ioh = IohContext(
        store=store,
        settings=settings,
        resources=resources,
        metrics=metrics,
        limiter=anyio.CapacityLimiter(MAX_CONCURRENT_TRANSFERS),
    )
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(legacy.router)
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
    app.add_middleware(RequestMetrics, metrics=metrics)
    if settings.tokens is not None:
        app.add_middleware(TokenAuth, tokens=settings.tokens)
    if settings.one_shot and stop is not None:
        app.add_middleware(OneShot, stop=stop)
    return app


async def _healthz(request: Request) -> Health:
    ctx = context_of(request)
    # open to anyone even with token auth: say which kind of store, not where or as whom
    return Health(
        name=ctx.settings.name,
        version=ctx.settings.version,
        store="swift" if ctx.settings.swift_storage else "local",
    )


async def _metrics(request: Request) -> Response:
    return Response(context_of(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
