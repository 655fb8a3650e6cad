"""HTTP entry points of the legacy protocol: POST and GET on /api/v1/cmd (and /cmd/)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from radswift.errors import InvalidInput, RadswiftError
from radswift.services.ioh.context import IohContext, context_of
from radswift.services.ioh.legacy import actions
from radswift.services.ioh.legacy.messages import action_of, meta_of, parse_control
from radswift.services.ioh.legacy.transfer import (
    failure,
    get_message,
    pull_zip,
    push_form,
    remote_status,
)
from radswift.services.ioh.middleware import PROBE
from radswift.services.ioh.multipart import boundary_of

MAX_CONTROL_BYTES = 256 * 1024
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
        body = await read_control_body(request)
        reply = await _control(ctx, parse_control(body), request.headers.get("user-agent", ""))
        return JSONResponse(reply)
    except RadswiftError as err:
        if request.headers.get("mode", "control").lower() != "control":
            ctx.metrics.pushes.labels("failed").inc()
        return JSONResponse(failure(err.reason, err.message), status_code=err.http_status)


async def read_control_body(request: Request, limit: int = MAX_CONTROL_BYTES) -> bytes:
    """A control message's body, refused past `limit` bytes (by its Content-Length before
    anything is read, and as it arrives when it has none). pman's legacy shell uses it too."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidInput("the control message is too large", reason="bad_message")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise InvalidInput("the control message is too large", reason="bad_message")
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
    raise InvalidInput(f"{action} needs a file form (push) or a GET (pull); "
                       "the copy mechanism is not supported", reason="unsupported")


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
        return JSONResponse(failure(err.reason, err.message), status_code=err.http_status)
    return StreamingResponse(chunks, media_type="application/zip")
