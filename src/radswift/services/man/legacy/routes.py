"""HTTP entry points of pman's legacy protocol.

    POST /api/v1/cmd (and /api/v1/cmd/)   a message, in {"payload": MSG} or bare
    GET  /api/v1/<jid>[/<field>...]        the job's node in the original's tree

Bad input is a 4xx with the legacy error JSON (`status: false`, `msg`, and the REST
`error`/`detail`), never a hang: the body is capped before it is read, and nothing a
message carries is evaluated or given to a shell.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from radswift.errors import RadswiftError
from radswift.services.ioh.legacy.messages import parse_control
from radswift.services.ioh.legacy.routes import read_control_body
from radswift.services.ioh.legacy.transfer import failure
from radswift.services.man.context import context_of
from radswift.services.man.legacy import actions, replies
from radswift.services.man.legacy.messages import action_of, run_request

MAX_MESSAGE_BYTES = 256 * 1024
commands = APIRouter(prefix="/api/v1", tags=["legacy pman protocol"])
tree = APIRouter(prefix="/api/v1", tags=["legacy pman protocol"])


@commands.post("/cmd", summary="A legacy pman message (pfurl, pfcon 2.x)")
@commands.post("/cmd/", include_in_schema=False)
async def legacy_post(request: Request) -> JSONResponse:
    ctx = context_of(request)
    try:
        body = await read_control_body(request, MAX_MESSAGE_BYTES)
        action, meta = action_of(parse_control(body))
        reply = replies.envelope(request, body, action, meta)
        d_ret, status = await ctx.blocking(actions.ACTIONS[action], ctx, meta)
        if action == "run" and not meta.get("threaded"):
            await ctx.until_finished(run_request(meta).jid, actions.RUN_WAIT)
            d_ret, status = await ctx.blocking(actions.run_status, ctx, meta)
    except RadswiftError as err:
        return JSONResponse(failure(err.reason, err.message), status_code=err.http_status)
    if d_ret is not None:
        reply["d_ret"] = d_ret
    reply["status"] = status
    return JSONResponse(reply)


@tree.get("/{jid}", summary="A job in the legacy pman tree")
@tree.get("/{jid}/{path:path}", include_in_schema=False)
async def legacy_get(request: Request, jid: str, path: str = "") -> JSONResponse:
    ctx = context_of(request)
    try:
        found = await ctx.blocking(actions.tree_at, ctx, f"/{jid}/{path}")
    except RadswiftError as err:
        return JSONResponse(failure(err.reason, err.message), status_code=err.http_status)
    reply = replies.envelope(request, b"", "", {})
    reply.update({"GET": found, "status": True})
    return JSONResponse(reply)
