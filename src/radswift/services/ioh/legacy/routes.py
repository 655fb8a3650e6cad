"""HTTP entry points of the legacy protocol: POST and GET on /api/v1/cmd (and /cmd/)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from radswift.errors import InvalidInput, RadswiftError
from radswift.services.ioh.bodypipe import idle_chunks
from radswift.services.ioh.context import IohContext, context_of
from radswift.services.ioh.http_errors import (
    close_if_unread,
    mark_unread_body,
    public_detail,
    request_id_of,
)
from radswift.services.ioh.legacy import actions
from radswift.services.ioh.legacy.messages import (
    MAX_MESSAGE_BYTES,
    action_of,
    meta_of,
    parse_control,
)
from radswift.services.ioh.legacy.transfer import (
    failure,
    get_message,
    pull_zip,
    push_form,
    remote_status,
)
from radswift.services.ioh.middleware import PROBE
from radswift.services.ioh.multipart import boundary_of
from radswift.services.ioh.settings import DEFAULT_BODY_IDLE_TIMEOUT

MAX_CONTROL_BYTES = MAX_MESSAGE_BYTES + 64  # the message wrapped in {"payload": ...}
router = APIRouter(prefix="/api/v1", tags=["legacy"])


@router.post("/cmd", summary="Legacy pfioh message (pfurl)")
@router.post("/cmd/", include_in_schema=False)
async def legacy_post(request: Request) -> Response:
    ctx = context_of(request)
    try:
        if request.headers.get("mode", "control").lower() != "control":
            boundary = boundary_of(request.headers.get("content-type", ""))
            reply = await ctx.with_body(request, lambda pipe: push_form(ctx, pipe, boundary))
            ctx.metrics.pushes.labels("ok").inc()
            return JSONResponse(reply)
        body = await read_control_body(
            request, idle=context_of(request).settings.tuning.body_idle_timeout
        )
        reply = await _control(ctx, parse_control(body), request.headers.get("user-agent", ""))
        return JSONResponse(reply)
    except RadswiftError as err:
        if request.headers.get("mode", "control").lower() != "control":
            ctx.metrics.pushes.labels("failed").inc()
        return _failed(request, err)


async def read_control_body(
    request: Request, limit: int = MAX_CONTROL_BYTES, idle: float = DEFAULT_BODY_IDLE_TIMEOUT
) -> bytes:
    """A control message's body, refused past `limit` bytes (by its Content-Length before
    anything is read, and as it arrives when it has none), and given up (408) when the
    client sends nothing for `idle` seconds. pman's legacy shell uses it too."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        mark_unread_body(request)
        raise InvalidInput("the control message is too large", reason="bad_message", too_large=True)
    body = b""
    async for chunk in idle_chunks(request.stream(), idle):
        body += chunk
        if len(body) > limit:
            mark_unread_body(request)
            raise InvalidInput(
                "the control message is too large", reason="bad_message", too_large=True
            )
    return body


async def _control(ctx: IohContext, message: dict[str, Any], user_agent: str) -> dict[str, Any]:
    action = action_of(message)
    meta = meta_of(message)
    if action == "hello":
        return actions.hello(ctx, meta, user_agent)
    if action == "ls":
        return await ctx.blocking(actions.ls, ctx, meta)
    if action == "rmtree":
        return await ctx.blocking(actions.rmtree, ctx, meta)
    if action == "internalctl":
        return actions.internalctl(ctx, meta)
    raise InvalidInput(
        f"{action} needs a file form (push) or a GET (pull); the copy mechanism is not supported",
        reason="unsupported",
    )


@router.get("/cmd", summary="Legacy pull (pfurl pullPath) and remote checks")
@router.get("/cmd/", include_in_schema=False)
async def legacy_get(request: Request) -> Response:
    ctx = context_of(request)
    try:
        action, meta = get_message(request.query_params)
        transport = meta.get("transport", {})
        if isinstance(transport, dict) and transport.get("checkRemote"):
            setattr(request.state, PROBE, True)
            return JSONResponse(await ctx.blocking(remote_status, ctx, action, meta))
        chunks = await ctx.blocking(pull_zip, ctx, meta)
    except RadswiftError as err:
        return _failed(request, err)
    return StreamingResponse(chunks, media_type="application/zip")


def _failed(request: Request, err: RadswiftError) -> JSONResponse:
    """The legacy error shape, revealing what http_errors.public_detail allows."""
    request_id = request_id_of(request)
    body = failure(err.reason, public_detail(err, request_id))
    if err.http_status >= 500:
        body["request_id"] = request_id
    return close_if_unread(request, JSONResponse(body, status_code=err.http_status))
