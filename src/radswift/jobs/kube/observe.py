"""A Job and its pods (as the watch last saw them) -> one `Observation`. Pure: no I/O.

The Job's conditions decide when a job is finished (the Job controller sets `Complete`
or `Failed` once its pods have ended, with backoffLimit 0 at the first failed pod);
pods say why. Reasons, first match wins:

    stop annotation       `cancelled` (once no pod is active) or `ImagePullBackOff`
                          (pman stopped the job because an image could not be pulled)
    Complete              finishedSuccessfully when the status object says `succeeded`
                          (or no store is configured); else the status object's state
    Failed                DeadlineExceeded (the Job's condition), Evicted (a pod's reason),
                          the processor's OOMKilled or `exit code N`, `get`'s exit code,
                          the status object's `upload-failed`, publish's exit code, else
                          the condition's reason (e.g. BackoffLimitExceeded)
    not finished          finishedWithError `ImagePullBackOff` once an image has failed to
                          pull for longer than the grace time; `started` when a pod runs;
                          `notstarted` while every pod is Pending (or none exists yet)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from radswift.jobs.lifecycle import JobState, Observation, Step
from radswift.jobs.podtemplate import COMPLETION_INDEX_ANNOTATION

STOP_ANNOTATION = "radswift.io/stop-reason"
CANCELLED = "cancelled"
PULL_FAILURES = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
)
DETAIL_LIMIT = 2000

StatusReader = Callable[[], Mapping[str, Any] | None]
"""Reads the job's status object (None when there is none); called only for finished Jobs."""


def observe(
    job: Any,
    pods: Sequence[Any],
    *,
    status: StatusReader | None,
    pulling_since: Callable[[str], float | None],
    now: float,
    pull_grace: float,
) -> Observation:
    """What the job is, from its Job object, its pods, and (finished only) its status object."""
    facts = _facts(job, pods)
    stop = (job.metadata.annotations or {}).get(STOP_ANNOTATION)
    conditions = _conditions(job)
    if "Complete" in conditions:
        return _complete(facts, status)
    if "Failed" in conditions:
        return _failed(facts, conditions["Failed"], pods, status)
    if stop == CANCELLED and not (job.status and job.status.active):
        return _finished(facts, reason=CANCELLED, detail="cancelled through pman")
    if stop:
        return _finished(facts, reason=stop, detail="stopped by pman")
    stuck = _pull_stuck(pods, pulling_since, now, pull_grace)
    if stuck is not None:
        return stuck.with_facts({**facts, "finished_at": now})
    running = any(p.status and p.status.phase in ("Running", "Succeeded", "Failed") for p in pods)
    state = JobState.STARTED if running else JobState.NOTSTARTED
    return Observation(state=state, started_at=facts["started_at"], steps=facts["steps"])


def pods_lag(job: Any, pods: Sequence[Any]) -> bool:
    """The Job has ended but a pod still looks active: the pod watch has not caught up yet.

    Jobs and pods come through two watches; judging a failed Job before its failed pod
    arrives would lose the reason (OOMKilled, exit code) for BackoffLimitExceeded."""
    conditions = _conditions(job)
    ended = {"Complete", "Failed"} & set(conditions)
    if not ended or getattr(conditions.get("Failed"), "reason", None) == "DeadlineExceeded":
        return False
    phases = [p.status.phase if p.status else None for p in pods]
    status = job.status
    return (
        "Pending" in phases
        or "Running" in phases
        or phases.count("Failed") < (status.failed or 0)
        or phases.count("Succeeded") < (status.succeeded or 0)
    )


class _Failure:
    """A reason found on a pod, before the job's common facts are added."""

    def __init__(self, step: Step | None, reason: str, exit_code: int | None, detail: str | None):
        self.step, self.reason, self.exit_code, self.detail = step, reason, exit_code, detail

    def with_facts(self, facts: Mapping[str, Any]) -> Observation:
        return _finished(
            facts, step=self.step, reason=self.reason, exit_code=self.exit_code, detail=self.detail
        )


def _facts(job: Any, pods: Sequence[Any]) -> dict[str, Any]:
    status = job.status
    started = _epoch(status.start_time) if status else None
    finished = _epoch(status.completion_time) if status else None
    for condition in (status.conditions or []) if status else []:
        if condition.type in ("Complete", "Failed") and condition.status == "True":
            finished = finished or _epoch(condition.last_transition_time)
    first = _worker_pod(pods, 0)
    return {"started_at": started, "finished_at": finished, "steps": steps(first)}


def _finished(
    facts: Mapping[str, Any],
    *,
    reason: str,
    step: Step | None = None,
    exit_code: int | None = None,
    detail: str | None = None,
) -> Observation:
    return Observation(
        state=JobState.FAILED,
        failed_step=step,
        reason=reason,
        exit_code=exit_code,
        detail=detail[:DETAIL_LIMIT] if detail else None,
        started_at=facts["started_at"],
        finished_at=facts["finished_at"],
        steps=facts["steps"],
    )


def _complete(facts: Mapping[str, Any], status: StatusReader | None) -> Observation:
    doc = status() if status is not None else {"state": "succeeded"}
    if doc is not None and doc.get("state") == "succeeded":
        return Observation(
            state=JobState.SUCCEEDED,
            exit_code=0,
            started_at=facts["started_at"],
            finished_at=facts["finished_at"],
            steps=facts["steps"],
        )
    return _from_status(doc).with_facts(facts)


def _from_status(doc: Mapping[str, Any] | None) -> _Failure:
    """A finished job whose status object is not `succeeded` (or missing)."""
    if doc is None:
        return _Failure(Step.PUBLISH, "no status object", None, "publish wrote no status object")
    state = str(doc.get("state"))
    detail = str(doc.get("message") or "") or None
    if state == "failed":
        code = doc.get("exit_code")
        return _Failure(Step.PROCESSOR, f"exit code {code}", _int(code), detail)
    return _Failure(Step.PUBLISH, state, _int(doc.get("exit_code")), detail)


def _failed(
    facts: Mapping[str, Any], condition: Any, pods: Sequence[Any], status: StatusReader | None
) -> Observation:
    reason = condition.reason or "Failed"
    if reason == "DeadlineExceeded":
        return _finished(facts, reason=reason, detail=condition.message)
    found = _pod_failure(pods)
    if found is not None and found.step is not Step.PUBLISH:
        return found.with_facts(facts)
    doc = status() if status is not None else None
    if doc is not None and doc.get("state") not in ("succeeded", "publishing", "running"):
        return _from_status(doc).with_facts(facts)
    if found is not None:
        return found.with_facts(facts)
    return _finished(facts, reason=reason, detail=condition.message)


def _pod_failure(pods: Sequence[Any]) -> _Failure | None:
    """Why a pod failed: evicted, then a container's failure in step order."""
    for pod in pods:
        if pod.status and pod.status.reason == "Evicted":
            return _Failure(None, "Evicted", None, pod.status.message)
    for step in (Step.PROCESSOR, Step.GET, Step.PUBLISH):
        for pod in pods:
            term = _terminated(pod, step)
            if term is not None and term.exit_code != 0:
                reason = (
                    "OOMKilled" if term.reason == "OOMKilled" else f"exit code {term.exit_code}"
                )
                return _Failure(step, reason, int(term.exit_code), term.message)
    return None


def _pull_stuck(
    pods: Sequence[Any], since: Callable[[str], float | None], now: float, grace: float
) -> _Failure | None:
    for pod in pods:
        for cs in _statuses(pod):
            waiting = cs.state.waiting if cs.state else None
            if waiting is None or waiting.reason not in PULL_FAILURES:
                continue
            first = since(pull_key(pod, cs.name))
            if first is not None and now - first >= grace:
                detail = f"{cs.name}: {waiting.message or waiting.reason} (image {cs.image})"
                return _Failure(_step(cs.name), "ImagePullBackOff", None, detail)
    return None


def pull_key(pod: Any, container: str) -> str:
    return f"{pod.metadata.name}/{container}"


def pull_failures(pod: Any) -> list[str]:
    """The pull_key of every container of `pod` whose image cannot be pulled right now."""
    return [
        pull_key(pod, cs.name)
        for cs in _statuses(pod)
        if cs.state and cs.state.waiting and cs.state.waiting.reason in PULL_FAILURES
    ]


def steps(pod: Any | None) -> dict[str, dict[str, Any]]:
    """Per step of worker 0's pod: state, exit code, reason, times."""
    out: dict[str, dict[str, Any]] = {}
    for cs in _statuses(pod) if pod is not None else []:
        if cs.name not in Step.__members__.values():
            continue
        state = cs.state
        if state is None:
            continue
        if state.terminated is not None:
            t = state.terminated
            out[cs.name] = {
                "state": "terminated",
                "exit_code": t.exit_code,
                "reason": t.reason,
                "started_at": _epoch(t.started_at),
                "finished_at": _epoch(t.finished_at),
            }
        elif state.running is not None:
            out[cs.name] = {"state": "running", "started_at": _epoch(state.running.started_at)}
        elif state.waiting is not None:
            out[cs.name] = {"state": "waiting", "reason": state.waiting.reason}
    return out


def worker_of(pod: Any) -> int:
    """The pod's completion index (0 for a job of one worker)."""
    meta = pod.metadata
    for source in (meta.annotations or {}, meta.labels or {}):
        value = source.get(COMPLETION_INDEX_ANNOTATION)
        if value is not None and str(value).isdigit():
            return int(value)
    return 0


def _worker_pod(pods: Sequence[Any], worker: int) -> Any | None:
    """The newest pod of `worker` (a replaced pod's successor wins)."""
    mine = [p for p in pods if worker_of(p) == worker]
    mine.sort(key=lambda p: _epoch(p.metadata.creation_timestamp) or 0.0)
    return mine[-1] if mine else None


def _conditions(job: Any) -> dict[str, Any]:
    status = job.status
    conditions = (status.conditions or []) if status else []
    return {c.type: c for c in conditions if c.status == "True"}


def _statuses(pod: Any) -> list[Any]:
    status = pod.status
    if status is None:
        return []
    return [*(status.init_container_statuses or []), *(status.container_statuses or [])]


def _terminated(pod: Any, step: Step) -> Any | None:
    for cs in _statuses(pod):
        if cs.name == step.value and cs.state is not None and cs.state.terminated is not None:
            return cs.state.terminated
    return None


def _step(name: str) -> Step | None:
    return Step(name) if name in Step.__members__.values() else None


def _epoch(value: object) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None
