"""What a job service (pman) needs from a compute backend: states, observations, one Protocol.

`radswift.jobs.backend.JobBackend` runs ONE job and blocks in `wait`: enough for a demo
or a test. A service runs many jobs for a long time, survives its own restarts and must
never block a request on a job. So a managed backend is driven differently:

- `submit(spec, credentials)` starts a job and returns at once. It is idempotent per jid:
  submitting a jid the backend already has is a no-op (the registry decides about
  duplicates; the backend must simply never run a job twice).
- The backend reports what it sees through the `listener` given to `start`: every time
  a job's `Observation` changes (from a process exiting, a podman event, a Kubernetes
  watch), it calls `listener(jid, observation)` from its own thread. The service maps
  observations to state transitions in ONE place (pman's registry) and ignores those
  that are not allowed (e.g. `started` after `finishedWithError`).
- `observe(jid)` answers what the backend knows right now, without waiting; pman calls it
  when it reconciles after a restart. `adopt()` lists every job this backend owns
  (e.g. by Kubernetes labels), with the submit document it was started from when the
  backend kept one (Kubernetes annotations), so a pman with an empty registry can take
  them back.
- `logs(jid, step, ...)` yields a step's output as text chunks; with `follow` it keeps
  yielding until the step has ended. `cancel` stops the job so that it ends
  `finishedWithError` with reason `cancelled` (the publisher still publishes what exists,
  as on SIGTERM); `remove` deletes everything the backend made for the job.

Backends are free of HTTP: they raise `radswift.errors` types (JobError, NotFound,
ConfigError, AuthorizationError, StorageUnavailable) with messages a user can act on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from radswift.jobs.spec import JobSpec


class JobState(StrEnum):
    """A job's state, spelled as the ChRIS ecosystem (pman, pfcon, CUBE) spells it."""

    NOTSTARTED = "notstarted"
    STARTED = "started"
    SUCCEEDED = "finishedSuccessfully"
    FAILED = "finishedWithError"
    UNDEFINED = "undefined"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED)

    def can_become(self, other: JobState) -> bool:
        """Whether a job in this state may move to `other` (see TRANSITIONS)."""
        return other in TRANSITIONS[self]


TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    JobState.NOTSTARTED: frozenset(
        {JobState.STARTED, JobState.SUCCEEDED, JobState.FAILED, JobState.UNDEFINED}
    ),
    JobState.STARTED: frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.UNDEFINED}),
    JobState.UNDEFINED: frozenset({JobState.STARTED, JobState.SUCCEEDED, JobState.FAILED}),
    JobState.SUCCEEDED: frozenset(),
    JobState.FAILED: frozenset(),
}
"""The allowed edges, the only ones a registry may take. A finished job never changes
again; `undefined` (the backend lost sight of the job) may recover to what it sees next.
A job may finish straight from `notstarted` (cancelled in the queue, or too quick to be
seen running)."""


class Step(StrEnum):
    """The three steps of every job, as the pod names its containers."""

    GET = "get"
    PROCESSOR = "processor"
    PUBLISH = "publish"


@dataclass(frozen=True, kw_only=True)
class Observation:
    """What a backend knows of one job at one moment.

    `failed_step` and `reason` say why a job is `finishedWithError`: e.g. step
    `processor` with reason `exit code 3` or `OOMKilled`; step `publish` with the status
    object's state `upload-failed`; reason `cancelled`, `DeadlineExceeded`,
    `BackoffLimitExceeded`, `Evicted`, `ImagePullBackOff`. `detail` holds a bounded tail of
    the failing step's output or the cluster's message, for humans.
    """

    state: JobState
    failed_step: Step | None = None
    reason: str | None = None
    exit_code: int | None = None
    detail: str | None = None
    started_at: float | None = None  # epoch seconds
    finished_at: float | None = None
    steps: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per step: e.g. {"state": "terminated", "exit_code": 0, "started_at": t, "finished_at": t}."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Backend facts worth recording, e.g. {"isolation": "bubblewrap", "limits": {...}}."""


Listener = Callable[[str, Observation], None]
"""Called by a backend from its own thread whenever a job's observation changes."""


@dataclass(frozen=True)
class AdoptedJob:
    """A job a backend found it owns (e.g. after pman restarted with an empty registry)."""

    jid: str
    observation: Observation
    submitted: Mapping[str, Any] | None = None
    """The submit document the job was started from, when the backend kept it."""
    spec_hash: str | None = None


class ManagedBackend(Protocol):
    """A compute backend as a long-running job service drives it (see the module doc)."""

    name: str
    """`local`, `podman`, `kubernetes` or `openshift`."""

    def start(self, listener: Listener) -> None:
        """Begin reporting observations (threads, watches); called once before submit."""
        ...

    def close(self) -> None:
        """Stop reporting; leave jobs running (they are the cluster's or the host's now)."""
        ...

    def submit(
        self,
        spec: JobSpec,
        credentials: bytes | None = None,
        *,
        submitted: Mapping[str, Any] | None = None,
        spec_hash: str | None = None,
    ) -> None:
        """Start the job and return at once; a jid the backend already has is a no-op."""
        ...

    def observe(self, jid: str) -> Observation:
        """What the backend knows now (UNDEFINED if it has no such job); never blocks long."""
        ...

    def adopt(self) -> Iterable[AdoptedJob]:
        """Every job this backend owns, as it finds them (for a pman with an empty registry)."""
        ...

    def logs(
        self, jid: str, step: Step, *, worker: int = 0, tail: int | None = 200, follow: bool = False
    ) -> Iterator[str]:
        """One step's output as text chunks (`tail` lines, None for all); `follow` until it ends."""
        ...

    def cancel(self, jid: str) -> None:
        """Stop the job; it ends finishedWithError, reason `cancelled`, publish still publishes."""
        ...

    def remove(self, jid: str) -> None:
        """Delete what the backend made for the job (pods, processes, files, claims)."""
        ...
