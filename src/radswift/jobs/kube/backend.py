"""`KubernetesBackend`: pman's jobs as batch/v1 Jobs, their state from watches.

Two informers (radswift.jobs.kube.informer) keep a cache of pman's Jobs and their pods
(label app.kubernetes.io/managed-by=radswift-pman); every change re-computes the job's
`Observation` (radswift.jobs.kube.observe) and tells the listener when it differs. A
ticker re-evaluates unfinished jobs every `tick` seconds, because two conditions are
about time, not events: an image that has failed to pull for `pull_grace` seconds (the
job is then stopped and reported finishedWithError ImagePullBackOff), and a finished Job
whose status object could not be read yet (Swift briefly away).

The cluster is the source of truth: `adopt()` lists what pman owns, with the submit
document and spec hash from the Job's annotations. `cancel` suspends the Job (its pods
get SIGTERM, so publish publishes what exists) and marks it `cancelled`; `remove`
deletes the Job with background propagation (pods, and the claim it owns) and the claim
explicitly too; `reap` removes finished jobs older than a retention period, and
ttlSecondsAfterFinished is the backstop when pman is down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import replace
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from radswift.errors import NotFound, RadswiftError, StorageError
from radswift.jobs.kube import objects as obj
from radswift.jobs.kube.api import REQUEST_TIMEOUT, api_error
from radswift.jobs.kube.informer import MAX_BACKOFF, Informer
from radswift.jobs.kube.logs import stream_log
from radswift.jobs.kube.observe import (
    CANCELLED,
    STOP_ANNOTATION,
    observe,
    pods_lag,
    pull_failures,
    worker_of,
)
from radswift.jobs.lifecycle import AdoptedJob, JobState, Listener, Observation, Step
from radswift.jobs.spec import JobSpec, Platform, job_name
from radswift.publisher.status import read_status
from radswift.store.base import ObjectStore

log = logging.getLogger(__name__)

DEFAULT_PULL_GRACE = 300.0
DEFAULT_TICK = 2.0
SETTLE_SECONDS = 10.0
"""How long a finished Job's pods may lag behind it before the Job is judged without them."""
_NetErrors = (urllib3.exceptions.HTTPError, OSError)


class KubernetesBackend:
    """A ManagedBackend on the Kubernetes API (`openshift`: the same, OpenShift manifests)."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        *,
        namespace: str,
        platform: Platform = Platform.KUBERNETES,
        store: ObjectStore | None = None,
        pull_grace: float = DEFAULT_PULL_GRACE,
        tick: float = DEFAULT_TICK,
        watch_seconds: int = 300,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self.name = platform.value
        self.namespace = namespace
        self.platform = platform
        self._client = api_client
        self._batch = k8s.BatchV1Api(api_client)
        self._core = k8s.CoreV1Api(api_client)
        self._store = store
        self._pull_grace, self._tick = pull_grace, tick
        self._lock = threading.Lock()
        self._jobs: dict[str, Any] = {}
        self._pods: dict[str, Any] = {}
        self._pulling: dict[str, float] = {}
        self._last: dict[str, Observation] = {}
        self._finals: dict[str, Observation] = {}
        self._settling: dict[str, float] = {}  # by Job uid: the status object read once
        self._listener: Listener = lambda jid, observation: None
        self._stop = threading.Event()
        self.job_informer = Informer(
            self._batch.list_namespaced_job,
            namespace,
            obj.SELECTOR,
            on_sync=self._jobs_synced,
            on_event=self._job_event,
            watch_seconds=watch_seconds,
            max_backoff=max_backoff,
        )
        self.pod_informer = Informer(
            self._core.list_namespaced_pod,
            namespace,
            obj.SELECTOR,
            on_sync=self._pods_synced,
            on_event=self._pod_event,
            watch_seconds=watch_seconds,
            max_backoff=max_backoff,
        )
        self._ticker = threading.Thread(target=self._tick_loop, name="kube-ticker", daemon=True)

    # --- lifecycle ---------------------------------------------------------------------
    def start(self, listener: Listener) -> None:
        self._listener = listener
        self.job_informer.start()
        self.pod_informer.start()
        self._ticker.start()

    def close(self) -> None:
        self._stop.set()
        self.job_informer.stop()
        self.pod_informer.stop()
        if self._ticker.is_alive():
            self._ticker.join(5)
        self._client.close()  # type: ignore[no-untyped-call]

    def wait_synced(self, timeout: float = 10.0) -> bool:
        """True once both informers have listed (tests, and pman before it serves)."""
        return self.job_informer.synced.wait(timeout) and self.pod_informer.synced.wait(timeout)

    # --- the ManagedBackend operations -------------------------------------------------
    def submit(
        self,
        spec: JobSpec,
        credentials: bytes | None = None,
        *,
        submitted: Mapping[str, Any] | None = None,
        spec_hash: str | None = None,
    ) -> None:
        """Create the Job (and the claim of a multi-worker job); an existing jid is a no-op.

        `credentials` are not used: pods read them from the namespace's Secret."""
        spec = replace(spec, namespace=self.namespace, platform=self.platform)
        body = obj.job_body(spec, submitted=submitted, spec_hash=spec_hash)
        try:
            created = self._batch.create_namespaced_job(
                self.namespace,
                body,  # type: ignore[arg-type]  # the client sends a dict as it is
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as exc:
            if exc.status != 409:
                raise api_error(exc, "create", "jobs.batch", self.namespace) from None
            created = self._read_job(spec.name)
        except _NetErrors as exc:
            raise api_error(exc, "create", "jobs.batch", self.namespace) from None
        with self._lock:
            self._jobs.setdefault(spec.name, created)
        if spec.workers > 1:
            self._create_claim(spec, created)

    def observe(self, jid: str) -> Observation:
        name = job_name(jid)
        with self._lock:
            job = self._jobs.get(name)
            pods = self._pods_of(name)
        if job is None and not self.job_informer.synced.is_set():
            job, pods = self._fetch(name)
        if job is None:
            return Observation(state=JobState.UNDEFINED)
        return self._compute(job, pods) or self._last.get(jid, Observation(state=JobState.STARTED))

    def adopt(self) -> Iterable[AdoptedJob]:
        jobs = self._call(
            "list",
            "jobs.batch",
            self._batch.list_namespaced_job,
            self.namespace,
            label_selector=obj.SELECTOR,
        )
        pods = self._call(
            "list",
            "pods",
            self._core.list_namespaced_pod,
            self.namespace,
            label_selector=obj.SELECTOR,
        )
        adopted = []
        for job in jobs.items or []:
            jid = obj.jid_of(job)
            if jid is None:
                continue
            mine = [p for p in pods.items or [] if obj.job_name_of(p) == job.metadata.name]
            observation = self._compute(job, mine) or Observation(state=JobState.STARTED)
            adopted.append(
                AdoptedJob(
                    jid=jid,
                    observation=observation,
                    submitted=obj.submitted_of(job),
                    spec_hash=obj.spec_hash_of(job),
                )
            )
        return adopted

    def logs(
        self, jid: str, step: Step, *, worker: int = 0, tail: int | None = 200, follow: bool = False
    ) -> Iterator[str]:
        name = job_name(jid)
        with self._lock:
            pods = self._pods_of(name)
        if not pods:
            pods = self._fetch(name)[1]
        mine = sorted(
            (p for p in pods if worker_of(p) == worker),
            key=lambda p: (
                p.metadata.creation_timestamp.timestamp() if p.metadata.creation_timestamp else 0
            ),
        )
        if not mine:
            raise NotFound(f"job {jid} has no pod for worker {worker} (yet)")
        return stream_log(
            self._core, self.namespace, mine[-1].metadata.name, step, tail=tail, follow=follow
        )

    def cancel(self, jid: str) -> None:
        self._stop_job(job_name(jid), CANCELLED)

    def remove(self, jid: str) -> None:
        """Delete the Job, its pods (background propagation) and its claim; gone is fine."""
        name = job_name(jid)
        try:
            self._batch.delete_namespaced_job(
                name,
                self.namespace,
                propagation_policy="Background",
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as exc:
            if exc.status != 404:
                raise api_error(exc, "delete", "jobs.batch", self.namespace) from None
        except _NetErrors as exc:
            raise api_error(exc, "delete", "jobs.batch", self.namespace) from None
        with self._lock:
            job = self._jobs.pop(name, None)
            self._last.pop(jid, None)
        if job is None or (job.spec and (job.spec.completions or 1) > 1):
            self._delete_claim(f"{name}-share")

    def reap(self, retention_seconds: float, now: float | None = None) -> list[str]:
        """Remove every finished job that finished more than `retention_seconds` ago."""
        now = time.time() if now is None else now
        with self._lock:
            old = [
                jid
                for jid, o in self._last.items()
                if o.state.finished and (o.finished_at or now) <= now - retention_seconds
            ]
        removed = []
        for jid in old:
            try:
                self.remove(jid)
                removed.append(jid)
            except RadswiftError as err:
                log.warning("reaper could not remove job %s: %s", jid, err)
        return removed

    # --- what the informers and the ticker report ---------------------------------------
    def _jobs_synced(self, jobs: list[Any]) -> None:
        fresh = {j.metadata.name: j for j in jobs}
        with self._lock:
            gone = [j for name, j in self._jobs.items() if name not in fresh]
            self._jobs = fresh
        for job in gone:
            self._job_deleted(job)
        for name in fresh:
            self._refresh(name)

    def _job_event(self, kind: str, job: Any) -> None:
        name = job.metadata.name
        if kind == "DELETED":
            with self._lock:
                self._jobs.pop(name, None)
            self._job_deleted(job)
            return
        with self._lock:
            self._jobs[name] = job
        self._refresh(name)

    def _job_deleted(self, job: Any) -> None:
        """A Job vanished: if it had not finished, it never will (never `started` forever)."""
        jid = obj.jid_of(job)
        if jid is None:
            return
        with self._lock:
            last = self._last.pop(jid, None)
        if last is not None and not last.state.finished:
            self._tell(
                jid,
                replace(
                    last,
                    state=JobState.FAILED,
                    reason="deleted",
                    detail="the Job was deleted before it finished",
                ),
            )

    def _pods_synced(self, pods: list[Any]) -> None:
        with self._lock:
            self._pods = {p.metadata.name: p for p in pods}
            self._pulling = {
                k: v for k, v in self._pulling.items() if k.split("/")[0] in self._pods
            }
            names = set(self._jobs)
        for pod in pods:
            self._track_pulls(pod)
        for name in names:
            self._refresh(name)

    def _pod_event(self, kind: str, pod: Any) -> None:
        with self._lock:
            if kind == "DELETED":
                self._pods.pop(pod.metadata.name, None)
            else:
                self._pods[pod.metadata.name] = pod
        self._track_pulls(pod)
        name = obj.job_name_of(pod)
        if name is not None:
            self._refresh(name)

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

    def _tick_loop(self) -> None:
        while not self._stop.wait(self._tick):
            with self._lock:
                names = [
                    n
                    for n, j in self._jobs.items()
                    if not self._last.get(obj.jid_of(j) or "", _UNSEEN).state.finished
                ]
            for name in names:
                self._refresh(name)

    def _refresh(self, name: str) -> None:
        """Re-compute one job's observation; tell the listener when it changed."""
        with self._lock:
            job = self._jobs.get(name)
            pods = self._pods_of(name)
        jid = obj.jid_of(job) if job is not None else None
        if job is None or jid is None:
            return
        observation = self._compute(job, pods)
        if observation is None:
            return
        with self._lock:
            if self._last.get(jid) == observation:
                return
            self._last[jid] = observation
        stop = (job.metadata.annotations or {}).get(STOP_ANNOTATION)
        if observation.reason == "ImagePullBackOff" and stop is None:
            try:
                self._stop_job(name, "ImagePullBackOff")
            except RadswiftError as err:
                log.warning("could not stop job %s after its image failed to pull: %s", jid, err)
        self._tell(jid, observation)

    def _tell(self, jid: str, observation: Observation) -> None:
        with self._lock:
            self._last[jid] = observation
        try:
            self._listener(jid, observation)
        except Exception:  # the listener's bug must not stop the watch
            log.exception("the listener failed on job %s", jid)

    def _compute(self, job: Any, pods: list[Any]) -> Observation | None:
        """The job's observation; None while its status object cannot be read (retried)."""
        uid = job.metadata.uid
        if uid and uid in self._finals:
            return self._finals[uid]
        jid = obj.jid_of(job) or job.metadata.name
        reader = None if self._store is None else (lambda: self._read_status(jid))
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
            first = self._settling.setdefault(uid or "", time.monotonic())
            if time.monotonic() - first < SETTLE_SECONDS:
                return None  # the pod watch will bring the pods' end (or the ticker retries)
        if observation.state.finished and uid:
            with self._lock:
                self._finals[uid] = observation
        return observation

    def _read_status(self, jid: str) -> dict[str, Any] | None:
        assert self._store is not None
        with self._status_lock:
            try:
                return read_status(self._store, jid)
            except NotFound:
                return None

    _status_lock = threading.Lock()

    def _pods_of(self, name: str) -> list[Any]:
        """Pods of the Job `name` (the caller holds the lock)."""
        return [p for p in self._pods.values() if obj.job_name_of(p) == name]

    # --- direct API calls ----------------------------------------------------------------
    def _call(self, verb: str, resource: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, _request_timeout=REQUEST_TIMEOUT, **kwargs)
        except (ApiException, *_NetErrors) as exc:
            raise api_error(exc, verb, resource, self.namespace) from None

    def _read_job(self, name: str) -> Any:
        return self._call(
            "get", "jobs.batch", self._batch.read_namespaced_job, name, self.namespace
        )

    def _fetch(self, name: str) -> tuple[Any | None, list[Any]]:
        """A Job and its pods straight from the API (before the informers have listed)."""
        try:
            job = self._read_job(name)
        except NotFound:
            return None, []
        pods = self._call(
            "list",
            "pods",
            self._core.list_namespaced_pod,
            self.namespace,
            label_selector=f"job-name={name}",
        )
        return job, list(pods.items or [])

    def _stop_job(self, name: str, reason: str) -> None:
        """Suspend the Job (its pods get SIGTERM) and say why in its annotation."""
        patch = {"metadata": {"annotations": {STOP_ANNOTATION: reason}}, "spec": {"suspend": True}}
        self._call(
            "patch", "jobs.batch", self._batch.patch_namespaced_job, name, self.namespace, patch
        )

    def _create_claim(self, spec: JobSpec, job: Any) -> None:
        body = obj.claim_body(spec, spec.name, job.metadata.uid)
        try:
            self._call(
                "create",
                "persistentvolumeclaims",
                self._core.create_namespaced_persistent_volume_claim,
                self.namespace,
                body,
            )
        except RadswiftError as err:
            if getattr(err, "status", None) != 409:
                raise

    def _delete_claim(self, name: str) -> None:
        with suppress(NotFound):
            self._call(
                "delete",
                "persistentvolumeclaims",
                self._core.delete_namespaced_persistent_volume_claim,
                name,
                self.namespace,
            )


_UNSEEN = Observation(state=JobState.NOTSTARTED)
