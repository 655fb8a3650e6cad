"""The job manager: submit, queue, watch, cancel and remove jobs on one ManagedBackend.

Free of HTTP: the REST shell, the ChRIS pman shape and the legacy protocol all call
these methods (from worker threads: several of them block on the disk or the backend).

    submit   validate, register (before returning), wake the dispatcher
    dispatcher (one thread)  hands queued jobs to the backend, oldest first, while fewer
             than `max_running` are active
    listener the backend's observations go to Registry.apply (the one place states
             change); a job that finishes gets its status object read (output summary,
             the publisher's verdict) and frees a slot
    start    reconciles every unfinished job with the backend (after a restart)
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from radswift.errors import InvalidInput, NotFound, RadswiftError
from radswift.jobmanager.registry import JobQuery, JobRecord, Registry
from radswift.jobmanager.request import JobRequest
from radswift.jobmanager.status import read_summary
from radswift.jobs.lifecycle import JobState, ManagedBackend, Observation, Step
from radswift.jobs.spec import JobSpec
from radswift.store.base import ObjectStore

log = logging.getLogger("radswift.jobmanager")
LOST = "lost"
DISPATCH_TICK = 1.0


@dataclass(frozen=True, kw_only=True)
class ManagerConfig:
    """How jobs are run. `store_url` (file:///...) tells jobs to use a local store instead
    of Swift; `credentials` is the Swift credentials file given to each job (never logged)."""

    max_running: int | None = None
    store_url: str | None = None
    credentials: bytes | None = None

    def __post_init__(self) -> None:
        if self.max_running is not None and self.max_running < 1:
            raise InvalidInput("max_running must be at least 1")

    def __repr__(self) -> str:
        return f"ManagerConfig(max_running={self.max_running}, store_url={self.store_url!r})"


@dataclass(frozen=True)
class Submitted:
    """The job a submit answered with; `created` is False for a resubmission."""

    record: JobRecord
    created: bool


Finished = Callable[[JobRecord], None]


class JobManager:
    """Jobs on `backend`, recorded in `registry`; `store` is where their keys live."""

    def __init__(
        self,
        registry: Registry,
        backend: ManagedBackend,
        *,
        config: ManagerConfig,
        store: ObjectStore | None = None,
    ) -> None:
        self.registry = registry
        self.backend = backend
        self.config = config
        self.store = store
        self._finished: list[Finished] = []
        self._wake = threading.Condition()
        self._changed = threading.Condition()
        self._closing = False
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name="pman-dispatch", daemon=True
        )

    def on_finished(self, callback: Finished) -> None:
        """Call `callback(record)` (from a backend thread) when a job finishes."""
        self._finished.append(callback)

    def start(self) -> None:
        """Begin watching the backend, reconcile what the registry holds, start dispatching."""
        self.backend.start(self._observed)
        self._reconcile()
        self._dispatcher.start()

    def close(self) -> None:
        """Stop dispatching and watching; running jobs go on (the next start finds them)."""
        with self._wake:
            self._closing = True
            self._wake.notify_all()
        if self._dispatcher.is_alive():
            self._dispatcher.join(5.0)
        self.backend.close()

    # --- the API ------------------------------------------------------------------------

    def submit(self, request: JobRequest) -> Submitted:
        """Register the job (201) or find the same one (200); Conflict for another spec."""
        spec = self.spec_of(request)
        check = getattr(self.backend, "check", None)
        if callable(check):
            check(spec)
        record, created = self.registry.insert(
            request.jid, request.spec_hash(), request.document(), request.auid
        )
        if created:
            self._poke()
        return Submitted(record, created)

    def get(self, jid: str) -> JobRecord:
        return self.registry.get(jid)

    def page(self, query: JobQuery) -> tuple[list[JobRecord], int]:
        """One page of jobs matching `query` (newest first) and how many match in all."""
        return self.registry.page(query)

    def logs(
        self, jid: str, step: Step, *, tail: int | None = 200, follow: bool = False, worker: int = 0
    ) -> Iterator[str]:
        """A step's output as text chunks (nothing yet for a queued job)."""
        record = self.registry.get(jid)
        if not record.dispatched:
            return iter(())
        return self.backend.logs(jid, step, worker=worker, tail=tail, follow=follow)

    def cancel(self, jid: str) -> JobRecord:
        """Stop the job: it ends finishedWithError, reason `cancelled` (at once when queued)."""
        _, tell_backend = self.registry.request_cancel(jid)
        if tell_backend:
            self.backend.cancel(jid)
        return self.registry.get(jid)

    def remove(self, jid: str, *, purge: bool = False) -> None:
        """Forget the job, then stop it if it runs and delete what the backend made for it;
        `purge` deletes the key's objects too. Forgotten first: a launch of it under way
        sees that when it returns, and removes what it started (_launch)."""
        record = self.registry.get(jid)
        self.registry.delete(jid)
        if record.dispatched:
            self.backend.remove(jid)
        if purge:
            self._purge(record.key)
        self._poke()

    def wait(self, jid: str, timeout: float) -> JobRecord:
        """The job once finished, or as it is after `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.registry.get(jid).state.finished, timeout)
        return self.registry.get(jid)

    def spec_of(self, request: JobRequest) -> JobSpec:
        return request.to_spec(store=self.config.store_url)

    # --- internals ----------------------------------------------------------------------

    def _observed(self, jid: str, observation: Observation) -> None:
        """The backend's listener: the observation goes to the registry's one gate."""
        summary = None
        if observation.state.finished:
            record = self.registry.find(jid)
            if record is None or record.state.finished:
                return
            summary = read_summary(self.store, record.key)
            observation = _with_publisher_verdict(observation, summary)
        changed = self.registry.apply(jid, observation, summary)
        if changed is None:
            return
        with self._changed:
            self._changed.notify_all()
        if changed.state.finished:
            self._poke()
            for callback in self._finished:
                callback(changed)

    def _reconcile(self) -> None:
        for record in self.registry.unfinished():
            if not record.dispatched:
                continue
            observation = self.backend.observe(record.jid)
            if observation.state is JobState.UNDEFINED:
                if record.state is JobState.NOTSTARTED:
                    self.registry.requeue(record.jid)  # handed over, never seen: run it now
                    continue
                observation = Observation(
                    state=JobState.FAILED,
                    reason=LOST,
                    detail=f"the {self.backend.name} backend has no trace of this job",
                )
            self._observed(record.jid, observation)
        self._adopt()

    def _adopt(self) -> None:
        """Running jobs the backend has that the registry lost (e.g. a pman started on a
        new or cleared registry); finished leftovers are not taken back."""
        for found in self.backend.adopt():
            if found.submitted is None or found.observation.state.finished:
                continue
            if self.registry.find(found.jid) is not None:
                continue
            try:
                request = JobRequest.model_validate(_request_fields(found.submitted))
            except ValueError:
                continue
            self.registry.insert(
                found.jid, request.spec_hash(), request.document(), request.auid, dispatched=True
            )  # it runs already
            self._observed(found.jid, found.observation)

    def _poke(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def _dispatch_loop(self) -> None:
        while True:
            with self._wake:
                if self._closing:
                    return
            while not self._closing:
                record = self.registry.claim_next(self.config.max_running)
                if record is None:
                    break
                self._launch(record)
            with self._wake:
                if not self._closing:
                    self._wake.wait(DISPATCH_TICK)

    def _launch(self, record: JobRecord) -> None:
        try:
            request = JobRequest.model_validate(_request_fields(record.submitted))
            self.backend.submit(
                self.spec_of(request),
                self.config.credentials,
                submitted=record.submitted,
                spec_hash=record.spec_hash,
            )
            if self.registry.find(record.jid) is None:  # deleted while it was being started
                threading.Thread(target=self.backend.remove, args=(record.jid,), daemon=True,
                                 name=f"remove-{record.jid}").start()  # fmt: skip
        except (RadswiftError, ValueError, OSError) as err:
            message = getattr(err, "message", str(err))
            log.warning("job %s could not be started: %s", record.jid, message)
            self._observed(
                record.jid,
                Observation(state=JobState.FAILED, reason="submit-failed", detail=message),
            )

    def _purge(self, key: str) -> None:
        if self.store is None:
            return
        from radswift.transfer.remove import remove_objects

        with contextlib.suppress(NotFound):
            remove_objects(self.store, key, "", recursive=True)


def _request_fields(submitted: Mapping[str, Any]) -> dict[str, Any]:
    return dict(submitted)


def _with_publisher_verdict(obs: Observation, summary: Mapping[str, Any] | None) -> Observation:
    """Say why a job failed in the publisher's words when the backend could not."""
    if summary is None or obs.state is not JobState.FAILED or obs.reason:
        return obs
    state = summary.get("state")
    return replace(obs, reason=str(state) if state else None)
