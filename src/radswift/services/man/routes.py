"""The REST API under /api/v1/jobs: submit, read, list, logs, cancel, delete."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from radswift.errors import InvalidInput
from radswift.jobmanager import JobQuery, JobRequest
from radswift.jobs.lifecycle import JobState, Step
from radswift.services.man.context import context_of
from radswift.services.man.schemas import ErrorReply, JobPage, JobView

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorReply} for code in (400, 401, 404, 409, 422, 503)
}
router = APIRouter(prefix="/api/v1/jobs", responses=ERRORS, tags=["jobs"])
MAX_TAIL = 100_000


@router.post(
    "",
    response_model=JobView,
    status_code=201,
    summary="Submit a job (201; the same job again: 200; another spec: 409)",
)
async def submit(request: Request, body: JobRequest) -> JSONResponse:
    ctx = context_of(request)
    done = await ctx.blocking(ctx.manager.submit, body)
    view = JobView.of(done.record)
    return JSONResponse(view.model_dump(mode="json"), status_code=201 if done.created else 200)


@router.get("", response_model=JobPage, summary="List jobs, newest first")
async def list_jobs(
    request: Request,
    status: JobState | None = None,
    auid: str | None = None,
    since: Annotated[datetime | None, Query(description="ISO 8601: created at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> JobPage:
    ctx = context_of(request)
    query = JobQuery(
        state=status,
        auid=auid,
        since=since.timestamp() if since else None,
        limit=limit,
        offset=offset,
    )
    records, total = await ctx.blocking(ctx.manager.page, query)
    return JobPage(total=total, offset=offset, limit=limit, jobs=[JobView.of(r) for r in records])


@router.get("/{jid}", response_model=JobView, summary="One job")
async def get_job(request: Request, jid: str) -> JobView:
    ctx = context_of(request)
    return JobView.of(await ctx.blocking(ctx.manager.get, jid))


@router.get(
    "/{jid}/logs/{step}",
    response_class=Response,
    summary="A step's output (get, processor or publish) as text",
    responses={200: {"content": {"text/plain": {}}}},
)
async def logs(
    request: Request,
    jid: str,
    step: Step,
    tail: Annotated[
        int | None, Query(ge=0, le=MAX_TAIL, description="Last lines (default 200)")
    ] = None,
    full: Annotated[bool, Query(description="The whole log")] = False,
    follow: Annotated[bool, Query(description="Stream until the step ends")] = False,
) -> Response:
    ctx = context_of(request)
    if full and tail is not None:
        raise InvalidInput("ask for either tail=N or full=true", reason="invalid_request")
    lines = None if full else (tail if tail is not None else ctx.settings.log_tail)
    chunks: Iterator[str] = await ctx.blocking(_open_logs, ctx.manager, jid, step, lines, follow)
    if follow:  # on the followers' own threads, never the pool every other route uses
        return StreamingResponse(ctx.follow(chunks), media_type="text/plain; charset=utf-8")
    text = "".join(await ctx.blocking(list, chunks))
    return Response(text, media_type="text/plain; charset=utf-8")


def _open_logs(
    manager: Any, jid: str, step: Step, lines: int | None, follow: bool
) -> Iterator[str]:
    return iter(manager.logs(jid, step, tail=lines, follow=follow))


@router.post(
    "/{jid}/cancel",
    response_model=JobView,
    summary="Cancel: the job ends finishedWithError, reason `cancelled`",
)
async def cancel(request: Request, jid: str) -> JobView:
    ctx = context_of(request)
    return JobView.of(await ctx.blocking(ctx.manager.cancel, jid))


@router.delete(
    "/{jid}",
    status_code=204,
    response_class=Response,
    summary="Delete the job and its backend leftovers (?purge=true: its key too)",
)
async def delete_job(request: Request, jid: str, purge: bool = False) -> Response:
    ctx = context_of(request)
    await ctx.blocking(lambda: ctx.manager.remove(jid, purge=purge))
    return Response(status_code=204)
