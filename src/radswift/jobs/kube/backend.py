"""`KubernetesBackend`: pman's jobs as batch/v1 Jobs, their state from watches.

Two informers (radswift.jobs.kube.informer) feed a JobCache (radswift.jobs.kube.cache)
with pman's Jobs and their pods (label app.kubernetes.io/managed-by=radswift-pman); every
change re-computes the job's `Observation` (radswift.jobs.kube.observe) and tells the
listener when it differs, so `observe` answers without a request. A ticker re-evaluates
unfinished jobs every `tick` seconds, because two conditions are about time, not events:
an image that has failed to pull for `pull_grace` seconds (the job is then stopped and
reported finishedWithError ImagePullBackOff), and a finished Job
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

from radswift.errors import Conflict, NotFound, RadswiftError
from radswift.jobs.kube import objects as obj
from radswift.jobs.kube.api import REQUEST_TIMEOUT, api_error
from radswift.jobs.kube.cache import JobCache
from radswift.jobs.kube.informer import MAX_BACKOFF, Informer
from radswift.jobs.kube.logs import stream_log
from radswift.jobs.kube.observe import (
    CANCELLED,
    STOP_ANNOTATION,
    worker_of,
)
from radswift.jobs.lifecycle import AdoptedJob, JobState, Listener, Observation, Step
from radswift.jobs.spec import JobSpec, Platform, job_name
from radswift.store.base import ObjectStore

log = logging.getLogger(__name__)

DEFAULT_PULL_GRACE = 300.0
DEFAULT_TICK = 2.0
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
        radswift_image: str | None = None,
        retention_seconds: float | None = None,
    ) -> None:
        self.name = platform.value
        self.retention_seconds = retention_seconds
        """Finished jobs older than this are deleted by the ticker (None: never; the Jobs'
        ttlSecondsAfterFinished stays the cluster's backstop)."""
        self.radswift_image = radswift_image
        """The image of the jobs' get and publish containers, when not the spec's default."""
        self.namespace = namespace
        self.platform = platform
        self._client = api_client
        self._batch = k8s.BatchV1Api(api_client)
        self._core = k8s.CoreV1Api(api_client)
        self._tick = tick
        self._cache = JobCache(store=store, pull_grace=pull_grace, stop_job=self._stop_job)
        self._stop = threading.Event()
        self.job_informer = Informer(
            self._batch.list_namespaced_job,
            namespace,
            obj.SELECTOR,
            resource="jobs.batch",
            on_sync=self._cache.jobs_synced,
            on_event=self._cache.job_event,
            watch_seconds=watch_seconds,
            max_backoff=max_backoff,
        )
        self.pod_informer = Informer(
            self._core.list_namespaced_pod,
            namespace,
            obj.SELECTOR,
            resource="pods",
            on_sync=self._cache.pods_synced,
            on_event=self._cache.pod_event,
            watch_seconds=watch_seconds,
            max_backoff=max_backoff,
        )
        self._ticker = threading.Thread(target=self._tick_loop, name="kube-ticker", daemon=True)

    def _tick_loop(self) -> None:
        reaped_at = time.monotonic()
        while not self._stop.wait(self._tick):
            self._cache.tick()
            if self.retention_seconds is not None and time.monotonic() - reaped_at >= 60:
                reaped_at = time.monotonic()
                try:
                    self.reap(self.retention_seconds)
                except RadswiftError as err:  # the API refused: next round, never a crash
                    log.warning("reaping finished jobs failed: %s", err.message)

    # --- lifecycle ---------------------------------------------------------------------
    def start(self, listener: Listener) -> None:
        self._cache.listener = listener
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

    def problems(self) -> list[str]:
        """Why the watches currently fail, if they do (e.g. for pman's /healthz or logs)."""
        errors = (self.job_informer.last_error, self.pod_informer.last_error)
        return [err.message for err in errors if err is not None]

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
        if self.radswift_image:
            spec = replace(spec, radswift_image=self.radswift_image)
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
            if obj.jid_of(created) != spec.jid:  # job_name is one to one: never adopt it
                raise Conflict(
                    f"job {spec.jid!r}: the Job {spec.name!r} belongs to another job",
                    reason="job-name-taken",
                ) from None
        except _NetErrors as exc:
            raise api_error(exc, "create", "jobs.batch", self.namespace) from None
        self._cache.put(created)
        if spec.workers > 1:
            try:
                self._create_claim(spec, created)
            except RadswiftError:  # without its /share the Job would wait for its deadline
                with suppress(RadswiftError):
                    self.remove(spec.jid)
                raise

    def observe(self, jid: str) -> Observation:
        name = job_name(jid)
        job, pods = self._cache.job(name)
        if job is None and not self.job_informer.synced.is_set():
            job, pods = self._fetch(name)
        if job is None:
            return Observation(state=JobState.UNDEFINED)
        return (
            self._cache.compute(job, pods)
            or self._cache.last(jid)
            or Observation(state=JobState.STARTED)
        )

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
            observation = self._cache.compute(job, mine) or Observation(state=JobState.STARTED)
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
        pods = self._cache.job(name)[1]
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
        job = self._cache.forget(name, jid)
        if job is None or (job.spec and (job.spec.completions or 1) > 1):
            self._delete_claim(f"{name}-share")

    def reap(self, retention_seconds: float, now: float | None = None) -> list[str]:
        """Remove every finished job that finished more than `retention_seconds` ago."""
        now = time.time() if now is None else now
        old = self._cache.finished_before(now - retention_seconds)
        removed = []
        for jid in old:
            try:
                self.remove(jid)
                removed.append(jid)
            except RadswiftError as err:
                log.warning("reaper could not remove job %s: %s", jid, err)
        return removed

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
