"""Turning a radswift service's HTTP reply into its JSON, or into the radswift error it
stands for (the services answer errors as `{"error": reason, "detail": message}`)."""

from __future__ import annotations

from typing import Any

import httpx

from radswift.errors import (
    AuthorizationError,
    Conflict,
    InvalidInput,
    NotFound,
    RadswiftError,
    StorageUnavailable,
    UnsafeArchive,
)

ERRORS: dict[int, type[RadswiftError]] = {
    400: InvalidInput, 401: AuthorizationError, 404: NotFound, 409: Conflict,
    422: InvalidInput, 503: StorageUnavailable,
}  # fmt: skip


def json_reply(response: httpx.Response, service: str) -> dict[str, Any]:
    """The JSON body of a success, or the server's error as a radswift error."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.is_success and isinstance(body, dict):
        return body
    raise error_of(response, body, service)


def error_of(response: httpx.Response, body: Any, service: str) -> RadswiftError:
    """The radswift error an unsuccessful reply stands for, with the server's reason."""
    found = isinstance(body, dict)
    reason = str(body.get("error", f"http_{response.status_code}")) if found else (
        f"http_{response.status_code}")  # fmt: skip
    detail = str(body.get("detail", response.reason_phrase)) if found else ""
    if response.status_code == 413:
        return UnsafeArchive(f"{service} refused the upload: {detail}", reason=reason,
                             too_large=True)  # fmt: skip
    cls = ERRORS.get(response.status_code, RadswiftError)
    return cls(f"{service}: {detail} ({response.status_code})", reason=reason)
