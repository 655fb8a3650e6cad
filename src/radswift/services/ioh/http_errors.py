"""The one place where radswift errors become HTTP responses.

Every error answer is JSON `{"error": <reason>, "detail": <message>}` with the status the
error type declares (`RadswiftError.http_status`): 400 bad input or missing token, 401
wrong token, 404, 409, 413 archive limits, 422 a request that does not fit the API's
schema, 503 the store is unreachable. Unexpected exceptions are 500 with a generic detail,
and are logged with their traceback (never sent to the client).

What a reply reveals: a 4xx says what was wrong with the request (the client's own key,
names and bytes). A 5xx is about the service's own side (its store, its credentials,
its configuration), whose messages name the Swift auth URL, the service user, storage
URLs and transaction ids: the client gets the reason, a generic sentence and the
request id (also the `X-Request-Id` header of every reply, see middleware.RequestId);
the full message goes to the server log under that id.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from radswift.errors import (
    AuthenticationError,
    AuthorizationError,
    ConfigError,
    IntegrityError,
    Overloaded,
    RadswiftError,
    StorageUnavailable,
)

log = logging.getLogger("radswift.services.ioh")
RETRY_AFTER_SECONDS = 5
"""Said with a 429 (Overloaded): when to try again."""
REQUEST_ID_STATE = "request_id"
"""Where middleware.RequestId keeps the request's id in the ASGI scope's state."""
PUBLIC_DETAILS: tuple[tuple[type[RadswiftError], str], ...] = (
    (AuthenticationError, "the object store refused the service's credentials"),
    (StorageUnavailable, "the object store cannot be reached or keeps failing"),
    (IntegrityError, "stored data failed its integrity check"),
    (ConfigError, "the service is misconfigured"),
)


def error_body(reason: str, detail: str, request_id: str = "") -> dict[str, str]:
    body = {"error": reason, "detail": detail}
    if request_id:
        body["request_id"] = request_id
    return body


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, REQUEST_ID_STATE, "") or "")


def public_detail(err: RadswiftError, request_id: str) -> str:
    """What a client may read about `err`: its message for a 4xx (about the request);
    for a 5xx a generic sentence with the request id, the message going to the log."""
    if err.http_status < 500:
        return err.message
    log.warning("request %s failed: %s", request_id or "-", err.message)
    generic = next(
        (text for kind, text in PUBLIC_DETAILS if isinstance(err, kind)), "the object store failed"
    )
    return f"{generic}; the service log has the details (request id {request_id or '-'})"


UNREAD_BODY = "radswift_unread_body"
"""request.state flag: the request failed before its body was read to the end."""


def mark_unread_body(request: Request) -> None:
    setattr(request.state, UNREAD_BODY, True)


def close_if_unread(request: Request, response: JSONResponse) -> JSONResponse:
    """Ask the server to close the connection after an error answered mid-body: otherwise
    it would read (and drop) the rest of a refused upload on the event loop to keep the
    connection alive, which for a 200 MiB hostile body is 200 MiB of work for nothing."""
    if getattr(request.state, UNREAD_BODY, False):
        response.headers["Connection"] = "close"
    return response


def error_response(err: RadswiftError, request_id: str = "") -> JSONResponse:
    """The JSON answer for a radswift error, with its declared status."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(err, AuthorizationError) else None
    if isinstance(err, Overloaded):
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    body = error_body(
        err.reason, public_detail(err, request_id), request_id if err.http_status >= 500 else ""
    )
    return JSONResponse(body, status_code=err.http_status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error path of `app` answer in the one JSON shape."""

    async def on_radswift(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RadswiftError)
        return close_if_unread(request, error_response(exc, request_id_of(request)))

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(
            error_body("invalid_request", summarize_errors(exc.errors())), status_code=422
        )

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        reason = "not_found" if exc.status_code == 404 else f"http_{exc.status_code}"
        return JSONResponse(
            error_body(reason, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = request_id_of(request)
        log.error("request %s: unexpected error", request_id or "-", exc_info=exc)
        return close_if_unread(
            request,
            JSONResponse(
                error_body("internal_error", "unexpected server error", request_id),
                status_code=500,
            ),
        )

    app.add_exception_handler(RadswiftError, on_radswift)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def summarize_errors(errors: Any) -> str:
    parts = []
    for item in list(errors)[:5]:
        where = ".".join(str(p) for p in item.get("loc", ()))
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"
