"""`kubernetes`: watch the pod(s) through the API until the processor container terminates.

One LIST gives the current state and a resourceVersion; a WATCH from that version
streams every change (no polling). The watch is resumed from the last version seen
when it ends (server timeout) or drops (connection reset, read timeout); a 410 Gone
(the version was compacted away) means LIST again. 401/403 stop at once with a clear
message: the pod's service account lacks the Role that lets it read pods.

Selection: a pod waiting for its own processor watches itself
(`fieldSelector=metadata.name=POD`); the uploader of a multi-worker job watches
`labelSelector=job-name=JOB` and maps each pod to its worker through the
`batch.kubernetes.io/job-completion-index` annotation (or label) of Indexed Jobs.

Authentication is in-cluster config built by hand (host, CA, service-account token
re-read at each request since bound tokens rotate), or a kubeconfig for runs from
outside a cluster. The token never appears in a message.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

from radswift.errors import ConfigError, WaitFailed
from radswift.publisher.config import KubeConnection
from radswift.publisher.wait.base import (
    MAX_TAIL_LINES,
    Deadline,
    ProcessorOutcome,
    bounded_tail,
    deadline_error,
)

INDEX_KEY = "batch.kubernetes.io/job-completion-index"
WATCH_SECONDS = 60
"""Longest server-side watch; shorter when the deadline is nearer."""
CONNECT_TIMEOUT = 5.0
READ_SLACK = 10.0
"""A watch whose socket stays silent this long after the server's own timeout is dead."""
MAX_CONSECUTIVE_FAILURES = 30
LOG_READ_LIMIT = 1 << 20
"""Bytes of the processor's last lines read from the API at most (kept: bounded_tail)."""
LOG_READ_TIMEOUT = 10.0


class KubernetesWait:
    """Waits for the processor container(s) by watching pods."""

    name = "kubernetes"

    def __init__(
        self,
        connection: KubeConnection,
        *,
        namespace: str,
        pod_name: str,
        own_worker: int,
        job_name: str | None,
        container: str,
        max_backoff: float = 5.0,
        watch_seconds: int = WATCH_SECONDS,
        read_slack: float = READ_SLACK,
    ) -> None:
        self._conn = connection
        self._namespace = namespace
        self._pod = pod_name
        self._own = own_worker
        self._job = job_name
        self._container = container
        self._max_backoff = max_backoff
        self._watch_seconds = watch_seconds
        self._read_slack = read_slack

    def wait(
        self, workers: Sequence[int], deadline: Deadline, found: dict[int, ProcessorOutcome]
    ) -> None:
        own_only = list(workers) == [self._own]
        if not own_only and not self._job:
            raise ConfigError("waiting for several workers needs the job name (RADSWIFT_JOB_NAME)")
        selectors = (
            {"field_selector": f"metadata.name={self._pod}"}
            if own_only
            else {"label_selector": f"job-name={self._job}"}
        )
        with k8s.ApiClient(api_configuration(self._conn)) as api_client:
            api = k8s.CoreV1Api(api_client)
            _Watcher(self, api, selectors, workers, own_only).run(deadline, found)

    def worker_of(self, pod: Any, own_only: bool) -> int | None:
        """The worker a pod runs: its completion index, or ours when watching ourselves."""
        if own_only:
            return self._own
        meta = pod.metadata
        for source in (meta.annotations or {}, meta.labels or {}):
            value = source.get(INDEX_KEY)
            if value is not None and str(value).isdigit():
                return int(value)
        return None

    def outcome(self, pod: Any, worker: int) -> ProcessorOutcome | None:
        """How the processor of `pod` ended, or None while it runs."""
        status = pod.status
        for cs in (status.container_statuses or []) if status else []:
            if cs.name == self._container and cs.state is not None and cs.state.terminated:
                t = cs.state.terminated
                return ProcessorOutcome(
                    worker=worker,
                    exit_code=int(t.exit_code),
                    reason=t.reason or ("Completed" if t.exit_code == 0 else "Error"),
                    started_at=_timestamp(t.started_at),
                    finished_at=_timestamp(t.finished_at),
                )
        if status is not None and status.phase in ("Failed", "Succeeded"):
            return ProcessorOutcome(
                worker=worker, exit_code=-1, reason=f"PodEnded:{status.reason or status.phase}"
            )
        return None


class _Watcher:
    """One wait: LIST, then WATCH from its resourceVersion, resuming as needed."""

    def __init__(
        self,
        owner: KubernetesWait,
        api: Any,
        selectors: dict[str, str],
        workers: Sequence[int],
        own_only: bool,
    ) -> None:
        self._owner = owner
        self._api = api
        self._selectors = selectors
        self._workers = list(workers)
        self._own_only = own_only
        self._version: str | None = None
        self.lists = 0
        self.watches = 0

    def run(self, deadline: Deadline, found: dict[int, ProcessorOutcome]) -> None:
        failures = 0
        while not self._done(found):
            if deadline.passed:
                raise deadline_error(self._workers, found)
            try:
                if self._version is None:
                    self._list(found)
                else:
                    self._watch(deadline, found)
                failures = 0
            except ApiException as exc:
                if exc.status == 410:  # our resourceVersion was compacted away: re-list
                    self._version = None
                    continue
                _raise_if_fatal(exc)
                failures = self._backoff(failures, deadline, f"HTTP {exc.status}")
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                failures = self._backoff(failures, deadline, type(exc).__name__)

    def _done(self, found: dict[int, ProcessorOutcome]) -> bool:
        return all(w in found for w in self._workers)

    def _list(self, found: dict[int, ProcessorOutcome]) -> None:
        self.lists += 1
        pods = self._api.list_namespaced_pod(
            self._owner_namespace,
            _request_timeout=(CONNECT_TIMEOUT, 30.0),
            **self._selectors,
        )
        for pod in pods.items or []:
            self._observe(pod, found)
        self._version = pods.metadata.resource_version

    def _watch(self, deadline: Deadline, found: dict[int, ProcessorOutcome]) -> None:
        self.watches += 1
        remaining = deadline.remaining()
        longest = self._owner._watch_seconds
        seconds = longest if remaining is None else max(1, min(longest, math.ceil(remaining)))
        for event in self._events(seconds):
            kind = event.get("type")
            raw = event.get("raw_object") or {}
            version = (raw.get("metadata") or {}).get("resourceVersion")
            if version:
                self._version = str(version)
            if kind in ("ADDED", "MODIFIED"):
                self._observe(event["object"], found)
            elif kind == "DELETED":
                self._deleted(event["object"], found)
            if self._done(found) or deadline.passed:
                return

    def _events(self, seconds: int) -> Iterator[dict[str, Any]]:
        stream: Callable[..., Iterator[dict[str, Any]]] = k8s_watch.Watch().stream  # type: ignore[no-untyped-call]
        return stream(
            self._api.list_namespaced_pod,
            self._owner_namespace,
            resource_version=self._version,
            timeout_seconds=seconds,
            allow_watch_bookmarks=True,
            _request_timeout=(CONNECT_TIMEOUT, seconds + self._owner._read_slack),
            **self._selectors,
        )

    @property
    def _owner_namespace(self) -> str:
        return self._owner._namespace

    def _observe(self, pod: Any, found: dict[int, ProcessorOutcome]) -> None:
        worker = self._owner.worker_of(pod, self._own_only)
        if worker is None or worker not in self._workers or worker in found:
            return
        outcome = self._owner.outcome(pod, worker)
        if outcome is not None:
            found[worker] = replace(outcome, log_tail=self._log_tail(pod))

    def _log_tail(self, pod: Any) -> str | None:
        """The end of the processor container's log (needs `get` on pods/log), or None:
        the log is a nicety of the status, never a reason for the wait to fail."""
        try:
            text = self._api.read_namespaced_pod_log(
                name=pod.metadata.name,
                namespace=pod.metadata.namespace or self._owner_namespace,
                container=self._owner._container,
                tail_lines=MAX_TAIL_LINES,
                limit_bytes=LOG_READ_LIMIT,
                _request_timeout=LOG_READ_TIMEOUT,
            )
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError, TypeError):
            return None
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text or b"")
        return bounded_tail(data)

    def _deleted(self, pod: Any, found: dict[int, ProcessorOutcome]) -> None:
        """A pod went away: its last state counts; if the processor never ended, it failed."""
        self._observe(pod, found)
        worker = self._owner.worker_of(pod, self._own_only)
        if worker is not None and worker in self._workers and worker not in found:
            found[worker] = ProcessorOutcome(worker=worker, exit_code=-1, reason="PodDeleted")

    def _backoff(self, failures: int, deadline: Deadline, what: str) -> int:
        failures += 1
        if failures > MAX_CONSECUTIVE_FAILURES:
            raise WaitFailed(
                f"the Kubernetes API kept failing ({what}); gave up after {failures - 1} tries"
            )
        pause = min(self._owner._max_backoff, 0.1 * 2 ** min(failures, 10))
        remaining = deadline.remaining()
        time.sleep(pause if remaining is None else min(pause, remaining))
        return failures


def _raise_if_fatal(exc: ApiException) -> None:
    """401/403/404 will not heal by retrying: say what is wrong (never the token)."""
    if exc.status in (401, 403):
        raise WaitFailed(
            f"the Kubernetes API refused to show the pods (HTTP {exc.status} {exc.reason}): "
            "does the pod's service account have a Role allowing get/list/watch on pods?"
        ) from None
    if exc.status == 404:
        raise WaitFailed(
            f"the Kubernetes API has no such namespace or resource ({exc.reason})"
        ) from None


def api_configuration(conn: KubeConnection) -> k8s.Configuration:
    """An API configuration from in-cluster files or a kubeconfig; the token read per request."""
    cfg = k8s.Configuration()
    if conn.kubeconfig is not None:
        from kubernetes import config as k8s_config

        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(conn.kubeconfig), client_configuration=cfg
        )
        return cfg
    cfg.host = conn.host
    if conn.ca_file is not None:
        cfg.ssl_ca_cert = str(conn.ca_file)
    token_file = conn.token_file
    if token_file is not None:
        cfg.api_key_prefix = {"authorization": "Bearer"}

        def refresh(c: k8s.Configuration) -> None:
            try:
                c.api_key = {"authorization": token_file.read_text().strip()}
            except OSError as exc:
                raise ConfigError(
                    f"cannot read the service-account token {token_file}: {exc.strerror}"
                ) from None

        refresh(cfg)  # the client only asks the hook once a key is present
        cfg.refresh_api_key_hook = refresh  # type: ignore[assignment]
    return cfg


def _timestamp(value: object) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return None if value is None else str(value)
