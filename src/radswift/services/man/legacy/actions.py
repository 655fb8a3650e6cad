"""The legacy actions over the JobManager (blocking: the routes run them in a thread).

Each returns `(d_ret or None, status)`, what the envelope carries. `run` registers the
job before it answers (as the REST submit does): with `threaded` it answers at once, as
the original did; without, the route (not a worker thread: many such clients must not
take the threads every other route needs) waits on the event loop until the job has
finished, or RUN_WAIT seconds, and answers `run_status` (the original held the client
until the end, forever if need be).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from radswift.errors import InvalidInput, NotFound
from radswift.jobmanager import JobQuery, JobRecord
from radswift.jobs.lifecycle import Step
from radswift.services.ioh.legacy.actions import hello_answer
from radswift.services.man.context import ManContext
from radswift.services.man.legacy import replies
from radswift.services.man.legacy.messages import (
    run_request,
    search_terms,
    selected_jid,
)

RUN_WAIT = 60.0
MAX_HITS = 1000
Answer = tuple[dict[str, Any] | None, bool]


def hello(ctx: ManContext, meta: Mapping[str, Any]) -> Answer:
    return hello_answer(ctx.settings.name, ctx.settings.version, meta)


def run(ctx: ManContext, meta: Mapping[str, Any]) -> Answer:
    """Register the job; the threaded reply (the route waits for a non-threaded one)."""
    ctx.manager.submit(run_request(meta))
    return None, True


def run_status(ctx: ManContext, meta: Mapping[str, Any]) -> Answer:
    """The reply to a non-threaded run, once its job finished or RUN_WAIT passed."""
    record = ctx.manager.registry.get(run_request(meta).jid)
    return replies.status(record, _logs(ctx, record)), True


def status(ctx: ManContext, meta: Mapping[str, Any]) -> Answer:
    record = ctx.manager.registry.find(selected_jid(meta))
    return replies.status(record, _logs(ctx, record)), record is not None


def done(ctx: ManContext, meta: Mapping[str, Any]) -> Answer:
    record = ctx.manager.registry.find(selected_jid(meta))
    return replies.job_state(record), record is not None


def delete(ctx: ManContext, meta: Mapping[str, Any]) -> Answer:
    jid = selected_jid(meta)
    ctx.manager.remove(jid)  # NotFound (404) for a jid it does not know
    return replies.deleted(jid), True


def search(ctx: ManContext, meta: Mapping[str, Any]) -> Answer:
    key, value = search_terms(meta)
    records = _matching(ctx, key, value)
    return replies.search(records, key, value), bool(records)


def info(ctx: ManContext, meta: Mapping[str, Any]) -> Answer:
    key, value = search_terms(meta)
    records = _matching(ctx, key, value)
    return replies.info(records), bool(records)


def get(ctx: ManContext, meta: Mapping[str, Any]) -> Answer:
    path = meta.get("path")
    if not isinstance(path, str):
        raise InvalidInput("meta.path must name a job, e.g. '/JID/endInfo'", reason="bad_path")
    return tree_at(ctx, path), True


ACTIONS = {
    "hello": hello,
    "run": run,
    "status": status,
    "done": done,
    "delete": delete,
    "search": search,
    "info": info,
    "get": get,
}


def tree_at(ctx: ManContext, path: str) -> dict[str, Any]:
    """The original's job tree below `/<jid>/<a>/<b>...`, nested as it answered:
    `{jid: {a: {b: ...}}}`; NotFound for a path the tree does not have."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise InvalidInput("name a job: /JID[/FIELD...]", reason="bad_path")
    node: Any = replies.tree(ctx.manager.get(parts[0]))
    for part in parts[1:]:
        if not isinstance(node, dict) or part not in node:
            raise NotFound(f"no {path!r} in the job tree", reason="not_found")
        node = node[part]
    for part in reversed(parts):
        node = {part: node}
    return dict(node)


def _matching(ctx: ManContext, key: str, value: str) -> list[JobRecord]:
    if key == "jid":
        record = ctx.manager.registry.find(value)
        return [] if record is None else [record]
    records, _ = ctx.manager.page(JobQuery(auid=value, limit=MAX_HITS))
    return records


def _logs(ctx: ManContext, record: JobRecord | None) -> str | None:
    """The processor's last lines once the job has finished (as the original's swarm mode
    reported them), else None."""
    if record is None or not record.state.finished or not record.dispatched:
        return None
    with contextlib.suppress(NotFound, OSError):
        return "".join(ctx.manager.logs(record.jid, Step.PROCESSOR, tail=ctx.settings.log_tail))
    return None
