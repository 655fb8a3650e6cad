"""The JSON shapes of pman's REST API (the submit body is radswift.jobmanager.JobRequest)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from radswift.jobmanager import JobRecord, JobRequest
from radswift.jobs.lifecycle import JobState


class ErrorReply(BaseModel):
    error: str
    detail: str


class Health(BaseModel):
    name: str
    version: str
    backend: str
    storage: str


class JobView(BaseModel):
    """One job: its state, why it failed, what it published, and what was submitted."""

    model_config = ConfigDict(extra="forbid")

    jid: str
    status: JobState
    queued: bool
    auid: str
    image: str
    type: str
    input_key: str
    cmd: list[str]
    created_at: str
    updated_at: str
    started_at: str | None
    finished_at: str | None
    exit_code: int | None
    failed_step: str | None
    reason: str | None
    detail: str | None
    steps: dict[str, Any]
    backend: dict[str, Any]
    publisher_state: str | None
    output: dict[str, Any] | None
    spec: dict[str, Any]

    @classmethod
    def of(cls, record: JobRecord) -> JobView:
        spec = dict(record.submitted)
        summary = record.status_object or {}
        return cls(
            jid=record.jid,
            status=record.state,
            queued=record.state is JobState.NOTSTARTED and not record.dispatched,
            auid=record.auid,
            image=str(spec.get("image", "")),
            type=str(spec.get("type", "")),
            input_key=record.key,
            cmd=command_of(spec),
            created_at=iso(record.created_at),
            updated_at=iso(record.updated_at),
            started_at=iso(record.started_at) if record.started_at else None,
            finished_at=iso(record.finished_at) if record.finished_at else None,
            exit_code=record.exit_code,
            failed_step=record.failed_step,
            reason=record.reason,
            detail=record.detail,
            steps=dict(record.steps),
            backend=dict(record.extra),
            publisher_state=summary.get("state"),
            output=summary.get("output"),
            spec=spec,
        )


class JobPage(BaseModel):
    total: int
    offset: int
    limit: int
    jobs: list[JobView]


def command_of(document: dict[str, Any]) -> list[str]:
    """The processor's command a stored document stands for ([] if it is not one)."""
    try:
        return JobRequest.model_validate(document).command()
    except ValueError:
        return []


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
