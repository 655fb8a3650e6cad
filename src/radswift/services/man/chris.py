"""The ChRIS pman 3-6 REST shape, so its clients (pfcon, CUBE's tooling) work unchanged.

    GET    /api/v1/           {server_version, container_env, storage_type}
    POST   /api/v1/           submit; 201 {jid, image, cmd, status, message, timestamp, logs}
    GET    /api/v1/<jid>/     the same reply, `logs` the processor's last lines
    DELETE /api/v1/<jid>/     204

Its fields map onto JobRequest: `cpu_limit` in millicores and `memory_limit` in MiB
(integers, as pman takes them), `env` as "NAME=value" strings, `args_path_flags` (the
argument after each such flag becomes /share/incoming, as pman's localize_path_args).
`input_dir`/`output_dir` (pman's host or volume paths) are accepted and not used: here a
job's data is its key's `input/` and `output/`, staged by the publisher.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from radswift.errors import InvalidInput
from radswift.jobmanager import JobRecord, JobRequest
from radswift.jobmanager.request import INCOMING
from radswift.jobs.lifecycle import Step
from radswift.services.man.context import ManContext, context_of
from radswift.services.man.schemas import command_of, iso

router = APIRouter(prefix="/api/v1", tags=["ChRIS pman shape"])


class ChrisJob(BaseModel):
    """The body pman's JobListResource.post parses."""

    model_config = ConfigDict(extra="forbid")

    jid: str
    args: list[str]
    args_path_flags: list[str] = Field(default_factory=list)
    auid: str
    number_of_workers: int
    cpu_limit: int = Field(ge=1, description="millicores")
    memory_limit: int = Field(ge=1, description="MiB")
    gpu_limit: int
    image: str
    entrypoint: list[str]
    type: Literal["ds", "fs", "ts"]
    env: list[str] = Field(default_factory=list)
    input_dir: str = ""
    output_dir: str = ""

    @field_validator("cpu_limit", "memory_limit", "gpu_limit", "number_of_workers", mode="before")
    @classmethod
    def _no_bool(cls, value: object) -> object:
        """pman reads these with int(): 1000 or "1000", but never `true` as 1."""
        if isinstance(value, bool):
            raise ValueError("must be an integer, not a boolean")
        return value

    def to_request(self) -> JobRequest:
        """The JobRequest (InvalidInput, a 400 with the reasons, if it is not a valid one:
        the jid exactly as sent, the limits within JobRequest's bounds)."""
        try:
            return self._request()
        except ValidationError as err:
            reasons = "; ".join(
                f"{'.'.join(str(part) for part in e['loc']) or 'body'}: {e['msg']}"
                for e in err.errors(include_url=False, include_input=False)
            )
            raise InvalidInput(reasons, reason="invalid_request") from None

    def _request(self) -> JobRequest:
        env: dict[str, str] = {}
        for pair in self.env:
            name, sep, value = pair.partition("=")
            if not sep:
                raise InvalidInput('"env" must be a list of "key=value" strings')
            env[name] = value
        return JobRequest(
            jid=self.jid,
            image=self.image,
            entrypoint=self.entrypoint,
            args=localize_path_args(self.args, frozenset(self.args_path_flags)),
            env=env,
            cpu_limit=f"{self.cpu_limit}m",
            memory_limit=f"{self.memory_limit}Mi",
            gpu_limit=self.gpu_limit,
            number_of_workers=self.number_of_workers,
            auid=self.auid,
            type=self.type,
        )


def localize_path_args(args: list[str], flags: frozenset[str]) -> list[str]:
    """The argument after each path flag becomes the input directory."""
    out: list[str] = []
    replace_next = False
    for arg in args:
        out.append(INCOMING if replace_next else arg)
        replace_next = not replace_next and arg in flags
    return out


@router.get("/", summary="Server facts (ChRIS pman shape)")
async def server(request: Request) -> dict[str, Any]:
    settings = context_of(request).settings
    return {
        "server_version": settings.version,
        "container_env": settings.backend,
        "storage_type": "swift" if settings.storage == "swift" else "host",
    }


@router.post("/", status_code=201, summary="Submit a job (ChRIS pman shape)")
async def submit(request: Request, body: ChrisJob) -> JSONResponse:
    ctx = context_of(request)
    done = await ctx.blocking(ctx.manager.submit, body.to_request())
    reply = await ctx.blocking(_reply, ctx, done.record, False)
    return JSONResponse(reply, status_code=201 if done.created else 200)


@router.get("/{jid}/", summary="A job (ChRIS pman shape)")
async def get_job(request: Request, jid: str) -> dict[str, Any]:
    ctx = context_of(request)
    record = await ctx.blocking(ctx.manager.get, jid.lstrip("/"))
    return await ctx.blocking(_reply, ctx, record, True)


@router.delete(
    "/{jid}/", status_code=204, response_class=Response, summary="Remove a job (ChRIS pman shape)"
)
async def delete_job(request: Request, jid: str) -> Response:
    ctx = context_of(request)
    await ctx.blocking(ctx.manager.remove, jid.lstrip("/"))
    return Response(status_code=204)


def _reply(ctx: ManContext, record: JobRecord, with_logs: bool) -> dict[str, Any]:
    logs = ""
    if with_logs:
        chunks = ctx.manager.logs(record.jid, Step.PROCESSOR, tail=ctx.settings.log_tail)
        logs = "".join(chunks)
    when = record.finished_at or record.started_at or record.created_at
    return {
        "jid": record.jid,
        "image": str(record.submitted.get("image", "")),
        "cmd": " ".join(command_of(dict(record.submitted))),
        "status": record.state.value,
        "message": record.reason or record.state.value,
        "timestamp": iso(when),
        "logs": logs,
    }
