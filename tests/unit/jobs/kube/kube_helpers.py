"""What the Kubernetes-backend tests share: a recording listener, specs, status objects."""

from __future__ import annotations

import threading
from collections.abc import Callable

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
