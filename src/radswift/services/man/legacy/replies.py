"""The shapes pman 2.2.0.4 answered with, built from radswift's job records.

Every reply is the original's envelope: what the server received (`RESTheader`,
`RESTverb`, `path`, `receivedByServer`, `client_json_payload`, `payloadsize`), the
`action` and `meta`, the verdict `status`, and for an answered query `d_ret`. The
original echoed every request header in `receivedByServer`; neither pfurl 2.3 nor
pfcon 2.2 reads that field (nor any header line of it), so only the headers in
`ECHOED_HEADERS`, which carry nothing secret, are echoed: no Authorization, Cookie,
proxy credentials, X-Auth-* or any token header a proxy in front may add. A job's
"root" in the original's tree was a timestamp-uuid directory; here it is the jid (one
job per jid).

    status / done   d_ret {"0.container": {jobRoot, tree: null},
                           "0.start": {jobRoot, startTrigger: [true] once started},
                           "0.end": {jobRoot, returncode: [code] once finished},
                           "l_status": [state], "l_logs": [processor log, once finished]}
                    an unknown jid: status false, the "-1.*" entries, l_status []
    search          d_ret {"0": {jid: {<key>: <value>}}, ...}, status: any hit
    info            d_ret {"0.0": {jid: {startInfo}}, "0.1": {jid: {endInfo}}}
    delete          d_ret {"action": "Delete Job", "job_id": jid, "status": true}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import Request

from radswift.jobmanager import JobRecord
from radswift.jobs.lifecycle import JobState
from radswift.services.man.schemas import command_of

ECHOED_HEADERS = frozenset(
    {"host", "user-agent", "accept", "accept-encoding", "content-type", "content-length",
     "mode", "expect", "connection"}
)  # fmt: skip
"""What pfurl (Mode, Content-type, Accept, User-Agent, Expect) and HTTP itself send."""


def envelope(request: Request, body: bytes, action: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The fields every original reply carried, from the request as received."""
    text = body.decode("utf-8", errors="replace")
    line = f"{request.method} {request.url.path} HTTP/{request.scope.get('http_version', '1.1')}"
    headers = [
        f"{name.title()}: {value}"
        for name, value in request.headers.items()
        if name in ECHOED_HEADERS
    ]
    return {
        "status": False,
        "RESTheader": line,
        "RESTverb": request.method,
        "action": action,
        "path": request.url.path.rstrip("/") or "/",
        "receivedByServer": [line, *headers, "", text],
        "client_json_payload": text,
        "client_json_len": len(text),
        "payloadsize": len(text),
        "meta": dict(meta),
    }


def job_state(record: JobRecord | None) -> dict[str, Any]:
    """The `done` answer (and the first part of `status`'s)."""
    if record is None:
        return {
            "-1.start": {"jobRoot": None, "startTrigger": None},
            "-1.end": {"jobRoot": None, "returncode": None},
            "-1.container": {"jobRoot": None, "tree": None},
        }
    return {
        "0.container": {"jobRoot": record.jid, "tree": None},
        "0.start": {"jobRoot": record.jid, "startTrigger": [True] if _started(record) else []},
        "0.end": {"jobRoot": record.jid, "returncode": _returncodes(record)},
    }


def status(record: JobRecord | None, logs: str | None) -> dict[str, Any]:
    """The `status` answer's d_ret: job_state, then l_status and l_logs."""
    d_ret = job_state(record)
    d_ret["l_status"] = [] if record is None else [record.state.value]
    d_ret["l_logs"] = [] if logs is None else [logs]
    return d_ret


def search(records: list[JobRecord], key: str, value: str) -> dict[str, Any]:
    return {str(i): {r.jid: {key: value}} for i, r in enumerate(records)}


def info(records: list[JobRecord]) -> dict[str, Any]:
    if not records:
        return {"-1": {"noJobFound": {"endInfo": {"allJobsDone": None}}}}
    d_ret: dict[str, Any] = {}
    for i, record in enumerate(records):
        d_ret[f"{i}.0"] = {record.jid: {"startInfo": {"allJobsStarted": _started(record)}}}
        d_ret[f"{i}.1"] = {record.jid: {"endInfo": {"allJobsDone": record.state.finished}}}
    return d_ret


def deleted(jid: str) -> dict[str, Any]:
    return {"action": "Delete Job", "job_id": jid, "status": True}


def tree(record: JobRecord) -> dict[str, Any]:
    """A job's node in the original's job tree (what `GET /api/v1/<jid>` serves)."""
    submitted = dict(record.submitted)
    return {
        "d_meta": json.dumps(submitted, sort_keys=True),
        "cmd": " ".join(command_of(submitted)),
        "auid": record.auid,
        "jid": record.jid,
        "jobCount": 1,
        "startInfo": {"allJobsStarted": _started(record)},
        "endInfo": {"allJobsDone": record.state.finished},
        "status": record.state.value,
        "returncode": record.exit_code,
        "reason": record.reason,
    }


def _started(record: JobRecord) -> bool:
    return record.state is not JobState.NOTSTARTED


def _returncodes(record: JobRecord) -> list[int]:
    if not record.state.finished:
        return []
    if record.exit_code is not None:
        return [record.exit_code]
    return [0 if record.state is JobState.SUCCEEDED else 1]
