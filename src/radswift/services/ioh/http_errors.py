"""The one place where radswift errors become HTTP responses.

Every error answer is JSON `{"error": <reason>, "detail": <message>}` with the status the
error type declares (`RadswiftError.http_status`): 400 bad input or missing token, 401
wrong token, 404, 409, 413 archive limits, 422 a request that does not fit the API's
schema, 503 the store is unreachable. Unexpected exceptions are 500 with a generic detail,
and are logged with their traceback (never sent to the client).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from radswift.errors import AuthorizationError, RadswiftError

log = logging.getLogger("radswift.services.ioh")


def error_body(reason: str, detail: str) -> dict[str, str]:
    return {"error": reason, "detail": detail}


def error_response(err: RadswiftError) -> JSONResponse:
    """The JSON answer for a radswift error, with its declared status."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(err, AuthorizationError) else None
    return JSONResponse(error_body(err.reason, err.message), status_code=err.http_status,
                        headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error path of `app` answer in the one JSON shape."""

    async def on_radswift(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RadswiftError)
        if exc.http_status >= 500:
            log.warning("request failed: %s", exc.message)
        return error_response(exc)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(error_body("invalid_request", summarize_errors(exc.errors())),
                            status_code=422)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        reason = "not_found" if exc.status_code == 404 else f"http_{exc.status_code}"
        return JSONResponse(error_body(reason, str(exc.detail)), status_code=exc.status_code,
                            headers=exc.headers)

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=exc)
        return JSONResponse(error_body("internal_error", "unexpected server error"),
                            status_code=500)

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
