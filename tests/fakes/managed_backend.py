"""A FAKE ManagedBackend, in memory, for pure-logic tests of the job manager.

It runs nothing: tests decide what it observes (`report`), and it records what it was
asked (`submitted`, `cancelled`, `removed`). Real backends are tested for real
(tests/integration/test_pman_*.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from radswift.jobs.lifecycle import AdoptedJob, JobState, Listener, Observation, Step
from radswift.jobs.spec import JobSpec


class FakeBackend:
    name = "fake"

    def __init__(self) -> None:
        self.listener: Listener | None = None
        self.jobs: dict[str, Observation] = {}
        self.specs: dict[str, JobSpec] = {}
        self.submitted: list[str] = []
        self.cancelled: list[str] = []
        self.removed: list[str] = []
        self.adoptable: list[AdoptedJob] = []
        self.submit_event = threading.Event()

    def start(self, listener: Listener) -> None:
        self.listener = listener

    def close(self) -> None:
        self.listener = None

    def submit(
        self,
        spec: JobSpec,
        credentials: bytes | None = None,
        *,
        submitted: Mapping[str, Any] | None = None,
        spec_hash: str | None = None,
    ) -> None:
        if spec.jid in self.jobs:
            return
        self.specs[spec.jid] = spec
        self.jobs[spec.jid] = Observation(state=JobState.NOTSTARTED)
        self.submitted.append(spec.jid)
        self.submit_event.set()

    def report(self, jid: str, observation: Observation) -> None:
        """What a real backend's watch would do: record and tell the listener."""
        self.jobs[jid] = observation
        assert self.listener is not None
        self.listener(jid, observation)

    def observe(self, jid: str) -> Observation:
        return self.jobs.get(jid, Observation(state=JobState.UNDEFINED))

    def adopt(self) -> Iterable[AdoptedJob]:
        return list(self.adoptable)

    def logs(
        self, jid: str, step: Step, *, worker: int = 0, tail: int | None = 200, follow: bool = False
    ) -> Iterator[str]:
        return iter([f"{jid} {step.value}\n"])

    def cancel(self, jid: str) -> None:
        self.cancelled.append(jid)

    def remove(self, jid: str) -> None:
        self.removed.append(jid)
        self.jobs.pop(jid, None)
