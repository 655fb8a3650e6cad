"""`JobCache`: what the watches saw of pman's Jobs and pods, and what the listener was told.

The informers feed it (`jobs_synced`/`job_event`, `pods_synced`/`pod_event`); every
change re-computes that job's Observation (radswift.jobs.kube.observe) and calls the
listener when it differs from the last one told. `tick()` re-evaluates unfinished jobs
for what depends on time rather than events (an image failing to pull for longer than
the grace time; a status object that could not be read yet). A Job that vanishes before
it finished is told as finishedWithError `deleted`: never `started` forever.

Finished observations are kept per Job uid, so a status object is read once per job;
a finished Job whose pods still look active is judged only once the pod watch has
caught up (or after SETTLE_SECONDS), so the reason is not lost to the race of two watches.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from radswift.errors import NotFound, RadswiftError, StorageError
from radswift.jobs.kube import objects as obj
from radswift.jobs.kube.observe import STOP_ANNOTATION, observe, pods_lag, pull_failures
from radswift.jobs.lifecycle import JobState, Listener, Observation
from radswift.publisher.status import read_status
from radswift.store.base import ObjectStore

log = logging.getLogger(__name__)

SETTLE_SECONDS = 10.0
"""How long a finished Job's pods may lag behind it before the Job is judged without them."""
PULL_STOPPED = "ImagePullBackOff"


class JobCache:
    """The cluster as last seen, and the observations told (thread-safe)."""

    def __init__(
        self,
        *,
        store: ObjectStore | None,
        pull_grace: float,
        stop_job: Callable[[str, str], None],
    ) -> None:
        self._store = store
        self._pull_grace = pull_grace
        self._stop_job = stop_job
        self.listener: Listener = lambda jid, observation: None
        self._lock = threading.Lock()
        self._status_lock = threading.Lock()
        self._jobs: dict[str, Any] = {}
        self._pods: dict[str, Any] = {}
        self._pulling: dict[str, float] = {}
        self._last: dict[str, Observation] = {}
        self._finals: dict[str, Observation] = {}
        self._settling: dict[str, float] = {}

    # --- reading ---------------------------------------------------------------------------
    def job(self, name: str) -> tuple[Any | None, list[Any]]:
        """The Job `name` and its pods, as last seen."""
        with self._lock:
            return self._jobs.get(name), self._pods_of(name)

    def last(self, jid: str) -> Observation | None:
        with self._lock:
            return self._last.get(jid)

    def finished_before(self, cutoff: float) -> list[str]:
        """Jids of jobs told finished at or before `cutoff` (epoch seconds)."""
        with self._lock:
            return [
                jid
                for jid, o in self._last.items()
                if o.state.finished and (o.finished_at or cutoff) <= cutoff
            ]

    def put(self, job: Any) -> None:
        """A Job pman just created (before its watch event arrives)."""
        with self._lock:
            self._jobs.setdefault(job.metadata.name, job)

    def forget(self, name: str, jid: str) -> Any | None:
        """pman removed the job: drop it without telling anyone; returns the Job if known."""
        with self._lock:
            self._last.pop(jid, None)
            return self._jobs.pop(name, None)

    # --- what the informers report ------------------------------------------------------
    def jobs_synced(self, jobs: list[Any]) -> None:
        fresh = {j.metadata.name: j for j in jobs}
        with self._lock:
            gone = [j for name, j in self._jobs.items() if name not in fresh]
            self._jobs = fresh
        for job in gone:
            self._job_deleted(job)
        for name in fresh:
            self.refresh(name)

    def job_event(self, kind: str, job: Any) -> None:
        name = job.metadata.name
        with self._lock:
            if kind == "DELETED":
                self._jobs.pop(name, None)
            else:
                self._jobs[name] = job
        if kind == "DELETED":
            self._job_deleted(job)
        else:
            self.refresh(name)

    def pods_synced(self, pods: list[Any]) -> None:
        with self._lock:
            self._pods = {p.metadata.name: p for p in pods}
            self._pulling = {
                k: v for k, v in self._pulling.items() if k.split("/")[0] in self._pods
            }
            names = set(self._jobs)
        for pod in pods:
            self._track_pulls(pod)
        for name in names:
            self.refresh(name)

    def pod_event(self, kind: str, pod: Any) -> None:
        with self._lock:
            if kind == "DELETED":
                self._pods.pop(pod.metadata.name, None)
            else:
                self._pods[pod.metadata.name] = pod
        self._track_pulls(pod)
        name = obj.job_name_of(pod)
        if name is not None:
            self.refresh(name)

    def tick(self) -> None:
        """Re-evaluate every unfinished job (time-dependent conditions)."""
        with self._lock:
            names = [n for n, j in self._jobs.items() if not self._told_finished(j)]
        for name in names:
            self.refresh(name)

    # --- computing and telling ------------------------------------------------------------
    def refresh(self, name: str) -> None:
        """Re-compute one job's observation; tell the listener when it changed."""
        job, pods = self.job(name)
        jid = obj.jid_of(job) if job is not None else None
        if job is None or jid is None:
            return
        observation = self.compute(job, pods)
        if observation is None:
            return
        with self._lock:
            if self._last.get(jid) == observation:
                return
            self._last[jid] = observation
        stop = (job.metadata.annotations or {}).get(STOP_ANNOTATION)
        if observation.reason == PULL_STOPPED and stop is None:
            try:
                self._stop_job(name, PULL_STOPPED)
            except RadswiftError as err:
                log.warning("could not stop job %s after its image failed to pull: %s", jid, err)
        self._tell(jid, observation)

    def compute(self, job: Any, pods: list[Any]) -> Observation | None:
        """The job's observation; None while it cannot be judged yet (retried later)."""
        uid = job.metadata.uid or ""
        with self._lock:
            final = self._finals.get(uid)
        if final is not None:
            return final
        jid = obj.jid_of(job) or job.metadata.name
        key = obj.key_of(job) or jid
        reader = None if self._store is None else (lambda: self._read_status(key))
        try:
            observation = observe(
                job,
                pods,
                status=reader,
                pulling_since=self._pulling.get,
                now=time.time(),
                pull_grace=self._pull_grace,
            )
        except StorageError as err:
            log.warning("cannot read the status object of job %s yet: %s", jid, err)
            return None
        if observation.state.finished and pods_lag(job, pods):
            with self._lock:
                first = self._settling.setdefault(uid, time.monotonic())
            if time.monotonic() - first < SETTLE_SECONDS:
                return None  # the pod watch will bring the pods' end (or tick retries)
        if observation.state.finished and uid:
            with self._lock:
                self._finals[uid] = observation
        return observation

    def _tell(self, jid: str, observation: Observation) -> None:
        with self._lock:
            self._last[jid] = observation
        try:
            self.listener(jid, observation)
        except Exception:  # the listener's bug must not stop the watch
            log.exception("the listener failed on job %s", jid)

    def _job_deleted(self, job: Any) -> None:
        """A Job vanished: if it had not finished, it never will."""
        jid = obj.jid_of(job)
        if jid is None:
            return
        with self._lock:
            last = self._last.pop(jid, None)
        if last is not None and not last.state.finished:
            detail = "the Job was deleted before it finished"
            self._tell(jid, replace(last, state=JobState.FAILED, reason="deleted", detail=detail))

    def _track_pulls(self, pod: Any) -> None:
        """Remember since when each container's image has been failing to pull."""
        failing = set(pull_failures(pod))
        prefix = f"{pod.metadata.name}/"
        now = time.time()
        with self._lock:
            for key in [k for k in self._pulling if k.startswith(prefix) and k not in failing]:
                del self._pulling[key]
            for key in failing:
                self._pulling.setdefault(key, now)

    def _read_status(self, key: str) -> dict[str, Any] | None:
        assert self._store is not None
        with self._status_lock:
            try:
                return read_status(self._store, key)
            except NotFound:
                return None

    def _told_finished(self, job: Any) -> bool:
        """(lock held) Whether the listener was told this job finished."""
        last = self._last.get(obj.jid_of(job) or "")
        return last is not None and last.state.finished

    def _pods_of(self, name: str) -> list[Any]:
        """(lock held) Pods of the Job `name`."""
        return [p for p in self._pods.values() if obj.job_name_of(p) == name]
