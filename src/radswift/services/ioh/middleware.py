"""ASGI middleware of pfioh: token auth, request metrics, and the legacy one-shot mode.

Plain ASGI (not BaseHTTPMiddleware) so request and response bodies keep streaming.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from radswift.errors import RadswiftError
from radswift.services.ioh.auth import OPEN_PATHS, check_authorization
from radswift.services.ioh.http_errors import REQUEST_ID_STATE, error_response
from radswift.services.ioh.metrics import IohMetrics

QUIET_PATHS = frozenset({"/healthz", "/metrics"})


class RequestId:
    """Gives every request an id (never the client's: it goes into the server log), kept
    in the scope's state for error replies and sent back as `X-Request-Id`, so a client
    can quote it and an operator find the request's log lines."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})[REQUEST_ID_STATE] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


class TokenAuth:
    """Every route but /healthz needs a valid bearer token (see auth.py for the rules)."""

    def __init__(self, app: ASGIApp, tokens: frozenset[str]) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        try:
            check_authorization(header, self.tokens)
        except RadswiftError as err:
            request_id = scope.get("state", {}).get(REQUEST_ID_STATE, "")
            await error_response(err, request_id)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class RequestMetrics:
    """Counts answered requests by route template and status, and times them."""

    def __init__(self, app: ASGIApp, metrics: IohMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self.metrics.latency.labels(_route(scope)).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.requests.labels(scope["method"], _route(scope), str(status)).inc()


PROBE = "ioh_probe"
"""Set in the request state by handlers whose request does not count (pfurl's checkRemote)."""


class OneShot:
    """Without --forever the legacy pfioh answered one request and exited: after the
    first request completes, `stop()` is called. /healthz, /metrics and pfurl's
    `checkRemote` probe (which precedes each of its pushes and pulls) do not count, so
    one pfurl transfer goes through."""

    def __init__(self, app: ASGIApp, stop: Callable[[], None]) -> None:
        self.app = app
        self.stop = stop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            probe = scope.get("state", {}).get(PROBE, False)
            if scope["type"] == "http" and scope["path"] not in QUIET_PATHS and not probe:
                self.stop()


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
