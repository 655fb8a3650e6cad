"""The job manager over a FAKE backend (tests/fakes/managed_backend.py): dispatch in order
within max_running, reconcile after a restart, cancel, remove. Real backends are
exercised in tests/integration/test_pman_*.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.managed_backend import FakeBackend
from radswift.jobmanager import JobManager, JobRequest, ManagerConfig, Registry
from radswift.jobs.lifecycle import AdoptedJob, JobState, Observation


def job(jid: str) -> JobRequest:
    return JobRequest(jid=jid, image="img", entrypoint=["run"], type="fs")


def until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def manager(tmp_path: Path, backend: FakeBackend) -> Iterator[JobManager]:
    manager = JobManager(Registry(tmp_path / "r.db"), backend,
                         config=ManagerConfig(max_running=2))  # fmt: skip
    manager.start()
    yield manager
    manager.close()


def test_jobs_are_handed_over_oldest_first_never_more_than_max_running(
    manager: JobManager, backend: FakeBackend
) -> None:
    for jid in ("a", "b", "c", "d"):
        manager.submit(job(jid))
    until(lambda: len(backend.submitted) == 2)
    time.sleep(0.1)
    assert backend.submitted == ["a", "b"]
    backend.report("a", Observation(state=JobState.SUCCEEDED))
    until(lambda: len(backend.submitted) == 3)
    assert backend.submitted == ["a", "b", "c"]
    assert manager.get("d").state is JobState.NOTSTARTED and not manager.get("d").dispatched


def test_a_resubmission_is_not_run_again(manager: JobManager, backend: FakeBackend) -> None:
    first, again = manager.submit(job("a")), manager.submit(job("a"))
    assert (first.created, again.created) == (True, False)
    until(lambda: backend.submitted == ["a"])
    backend.report("a", Observation(state=JobState.SUCCEEDED))
    assert not manager.submit(job("a")).created
    time.sleep(0.1)
    assert backend.submitted == ["a"]


def test_cancel_asks_the_backend_and_the_end_is_recorded_as_cancelled(
    manager: JobManager, backend: FakeBackend
) -> None:
    manager.submit(job("a"))
    until(lambda: backend.submitted == ["a"])
    backend.report("a", Observation(state=JobState.STARTED))
    manager.cancel("a")
    assert backend.cancelled == ["a"]
    backend.report("a", Observation(state=JobState.FAILED, reason="exit code 143"))
    assert (manager.get("a").state, manager.get("a").reason) == (JobState.FAILED, "cancelled")


def test_remove_clears_the_backend_and_forgets_the_job(
    manager: JobManager, backend: FakeBackend
) -> None:
    manager.submit(job("a"))
    until(lambda: backend.submitted == ["a"])
    manager.remove("a")
    assert backend.removed == ["a"]
    assert manager.registry.find("a") is None


def test_a_restart_reconciles_with_what_the_backend_says(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "r.db")
    for jid in ("running", "finished", "vanished", "handed-over"):
        registry.insert(jid, jid, job(jid).document())
        registry.claim_next(None)
    registry.apply("running", Observation(state=JobState.STARTED))
    registry.apply("vanished", Observation(state=JobState.STARTED))
    backend = FakeBackend()
    backend.jobs["running"] = Observation(state=JobState.STARTED)
    backend.jobs["finished"] = Observation(state=JobState.SUCCEEDED)
    backend.adoptable = [AdoptedJob("stray", Observation(state=JobState.STARTED),
                                    submitted=job("stray").document())]  # fmt: skip

    manager = JobManager(registry, backend, config=ManagerConfig())
    manager.start()
    try:
        assert manager.get("running").state is JobState.STARTED
        assert manager.get("finished").state is JobState.SUCCEEDED
        assert (manager.get("vanished").state, manager.get("vanished").reason) == (
            JobState.FAILED, "lost",
        )  # fmt: skip
        until(lambda: "handed-over" in backend.submitted)  # never seen: run now
        stray = manager.get("stray")
        assert stray.state is JobState.STARTED and stray.dispatched
    finally:
        manager.close()
