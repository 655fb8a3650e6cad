"""The ManagedBackend contract (radswift.jobs.lifecycle): what pman relies on, per backend.

One suite, run against every backend. A backend joins by adding a param to BACKENDS and
a branch to `make_rig`: a backend built the way `radswift.jobs.managed.open_backend`
builds it, plus how its jobs are specified (image, store). Jobs here are `fs` jobs on a
local-directory store, so no Swift is needed; the podman backend is exercised end to end
in tests/integration/test_pman_podman.py.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from radswift.jobs.lifecycle import JobState, ManagedBackend, Observation, Step
from radswift.jobs.managed import BackendConfig, open_backend
from radswift.jobs.spec import JobSpec
from radswift.store.local import LocalStore

BACKENDS = [
    pytest.param("local", marks=pytest.mark.skipif(shutil.which("gcc") is None,
                                                   reason="gcc builds the emissary")),
    pytest.param("local-bubblewrap", marks=pytest.mark.skipif(
        shutil.which("bwrap") is None or shutil.which("gcc") is None,
        reason="bwrap (Debian bubblewrap) and gcc are needed")),
]  # fmt: skip
TIMEOUT = 60.0


@dataclass
class Rig:
    """A started backend, what it reported, and how to specify its jobs."""

    root: Path
    store: Path
    make: Callable[[Path], ManagedBackend]
    backend: ManagedBackend = field(init=False)
    seen: dict[str, list[Observation]] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.backend = self.make(self.root)
        self.backend.start(self.listen)

    def listen(self, jid: str, observation: Observation) -> None:
        with self.changed:
            self.seen.setdefault(jid, []).append(observation)
            self.changed.notify_all()

    def spec(self, jid: str, script: str) -> JobSpec:
        return JobSpec(jid=jid, image="host", command=["sh", "-c", script], wait="exitfile",
                       store=f"file://{self.store}", allow_empty_input=True)  # fmt: skip

    def finished(self, jid: str) -> Observation:
        """The backend's final observation of `jid`, as its listener reported it."""

        def done() -> bool:
            return any(o.state.finished for o in self.seen.get(jid, []))

        with self.changed:
            assert self.changed.wait_for(done, TIMEOUT), self.seen.get(jid)
        return next(o for o in self.seen[jid] if o.state.finished)

    def restarted(self) -> Rig:
        """Another instance of the backend over the same files (pman after a restart)."""
        self.backend.close()
        return Rig(self.root, self.store, self.make)


def make_rig(name: str, tmp_path: Path) -> Rig:
    isolation = "bubblewrap" if name == "local-bubblewrap" else "none"

    def make(root: Path) -> ManagedBackend:
        options: dict[str, Any] = {"isolation": isolation}
        return open_backend("local", BackendConfig(root=root, environ={}, options=options))

    return Rig(tmp_path / "jobs", tmp_path / "store", make)


@pytest.fixture(params=BACKENDS)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    made = make_rig(request.param, tmp_path)
    yield made
    made.backend.close()


def output(rig: Rig, jid: str, name: str) -> bytes:
    with LocalStore(rig.store).open_object(jid, f"output/{name}") as reader:
        return b"".join(reader.iter_chunks())


def test_a_job_runs_once_however_often_it_is_submitted_and_ends_succeeded(rig: Rig) -> None:
    spec = rig.spec("once", "echo hello; echo run >> /share/outgoing/runs.txt")
    rig.backend.submit(spec, submitted={"jid": "once"}, spec_hash="h")
    rig.backend.submit(spec, submitted={"jid": "once"}, spec_hash="h")

    final = rig.finished("once")

    assert final.state is JobState.SUCCEEDED and final.exit_code == 0
    assert set(final.steps) == {"get", "processor", "publish"}
    assert rig.backend.observe("once") == final
    assert output(rig, "once", "runs.txt") == b"run\n"
    assert "".join(rig.backend.logs("once", Step.PROCESSOR)) == "hello\n"
    assert "".join(rig.backend.logs("once", Step.PROCESSOR, follow=True)) == "hello\n"


def test_a_failing_processor_names_its_step_and_exit_code(rig: Rig) -> None:
    rig.backend.submit(rig.spec("fails", "echo oops >&2; exit 3"))
    final = rig.finished("fails")
    assert (final.state, final.failed_step, final.exit_code) == (
        JobState.FAILED, Step.PROCESSOR, 3,
    )  # fmt: skip
    assert final.reason == "exit code 3" and "oops" in (final.detail or "")


def test_a_cancelled_job_ends_cancelled_and_publishes_what_exists(rig: Rig) -> None:
    rig.backend.submit(rig.spec("cancel", "echo so-far > /share/outgoing/a.txt; exec sleep 60"))
    with rig.changed:
        rig.changed.wait_for(lambda: any(
            "processor" in o.steps for o in rig.seen.get("cancel", [])), TIMEOUT)  # fmt: skip
    rig.backend.cancel("cancel")
    final = rig.finished("cancel")
    assert (final.state, final.reason) == (JobState.FAILED, "cancelled")
    assert output(rig, "cancel", "a.txt") == b"so-far\n"


def test_unknown_jobs_are_undefined_and_removed_ones_are_gone(rig: Rig) -> None:
    assert rig.backend.observe("nothing-here").state is JobState.UNDEFINED
    rig.backend.submit(rig.spec("gone", "true"))
    rig.finished("gone")
    rig.backend.remove("gone")
    assert rig.backend.observe("gone").state is JobState.UNDEFINED
    assert "gone" not in [found.jid for found in rig.backend.adopt()]


def test_a_new_instance_finds_the_jobs_with_their_documents(rig: Rig) -> None:
    rig.backend.submit(rig.spec("kept", "true"), submitted={"jid": "kept", "x": 1},
                       spec_hash="hash-1")  # fmt: skip
    first = rig.finished("kept")
    again = rig.restarted()
    try:
        assert again.backend.observe("kept") == first
        (found,) = [f for f in again.backend.adopt() if f.jid == "kept"]
        assert (found.submitted, found.spec_hash) == ({"jid": "kept", "x": 1}, "hash-1")
        assert found.observation.state is JobState.SUCCEEDED
    finally:
        again.backend.close()
