"""What the Kubernetes-backend tests share: a recording listener, specs, status objects,
and a job's life told step by step (Jobs)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fakes import kube_workloads as kw
from fakes.kube_cluster import FakeKubernetesAPI
from radswift.jobs.kube import KubernetesBackend
from radswift.jobs.lifecycle import JobState, Observation
from radswift.jobs.spec import JobSpec, WaitStrategy
from radswift.publisher.status import status_document, write_status
from radswift.store.local import LocalStore


class Recorder:
    """The listener pman would give: records every observation per jid."""

    def __init__(self) -> None:
        self.seen: dict[str, list[Observation]] = {}
        self._cond = threading.Condition()

    def __call__(self, jid: str, observation: Observation) -> None:
        with self._cond:
            self.seen.setdefault(jid, []).append(observation)
            self._cond.notify_all()

    def states(self, jid: str) -> list[JobState]:
        """The states the job went through (an observation may repeat a state with new steps)."""
        with self._cond:
            states = [o.state for o in self.seen.get(jid, [])]
        return [s for i, s in enumerate(states) if i == 0 or states[i - 1] is not s]

    def wait(
        self, jid: str, test: Callable[[Observation], bool], timeout: float = 10.0
    ) -> Observation:
        """The first observation of `jid` that passes `test` (TimeoutError if none comes)."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: any(test(o) for o in self.seen.get(jid, [])), timeout=timeout
            )
            if not ok:
                raise TimeoutError(f"{jid}: no such observation; saw {self.seen.get(jid)}")
            return next(o for o in self.seen[jid] if test(o))

    def wait_state(self, jid: str, state: JobState, timeout: float = 10.0) -> Observation:
        return self.wait(jid, lambda o: o.state is state, timeout)


def spec(jid: str, *, workers: int = 1, image: str = "localhost/pl-simpledsapp:1") -> JobSpec:
    return JobSpec(
        jid=jid,
        image=image,
        command=("simpledsapp", "/share/incoming", "/share/outgoing"),
        workers=workers,
        wait=WaitStrategy.KUBERNETES,
        namespace="elsewhere",
    )


def publish_status(store: LocalStore, jid: str, state: str, **extra: object) -> None:
    """What the publisher's put writes last: the status object."""
    store.ensure_container(jid)
    write_status(store, jid, status_document(jid, state, extra=extra))


class Jobs:
    """A job's life as a test tells it, through the backend under test and the fake
    cluster's kubelet: submitted, its pods running, its containers exiting, the publisher's
    status object written; and the states the backend reported to its listener."""

    def __init__(
        self,
        cluster: FakeKubernetesAPI,
        backend: KubernetesBackend,
        recorder: Recorder,
        store: LocalStore,
    ) -> None:
        self.cluster = cluster
        self.backend = backend
        self.recorder = recorder
        self.store = store

    def submit(self, jid: str, **spec_options: Any) -> None:
        self.backend.submit(spec(jid, **spec_options))

    def run(self, jid: str, **spec_options: Any) -> None:
        """Submitted, and the kubelet runs its pods (the backend may not have seen it yet)."""
        self.submit(jid, **spec_options)
        self.cluster.kubelet(jid, kw.running)

    def started(self, jid: str, **spec_options: Any) -> Observation:
        """Submitted, its pods running, and the backend reported it started."""
        self.run(jid, **spec_options)
        return self.wait(jid, JobState.STARTED)

    def publishes(self, jid: str, state: str, **extra: object) -> None:
        publish_status(self.store, jid, state, **extra)

    def exit(self, jid: str, **codes: Any) -> None:
        """Its containers exit: processor=, publish=, reason=, workers= as the fake
        cluster's containers_exit takes them."""
        self.cluster.containers_exit(jid, **codes)

    def wait(self, jid: str, state: JobState) -> Observation:
        return self.recorder.wait_state(jid, state)
