"""The local ManagedBackend on its own (no HTTP): what it observes, and the deadline it
enforces when publish runs inside the service. Store: a local directory."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from radswift.jobs.lifecycle import JobState, Observation
from radswift.jobs.managed import BackendConfig, open_backend
from radswift.jobs.spec import JobSpec
from radswift.store.local import LocalStore

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the emissary")


def test_a_job_past_its_deadline_is_stopped_published_and_says_deadline(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    backend = open_backend("local", BackendConfig(root=tmp_path / "jobs", environ={},
                                                  options={"isolation": "none"}))  # fmt: skip
    seen: list[Observation] = []
    ended = threading.Event()

    def listener(jid: str, observation: Observation) -> None:
        seen.append(observation)
        if observation.state.finished:
            ended.set()

    backend.start(listener)
    script = "echo early > /share/outgoing/early.txt; exec sleep 60"
    spec = JobSpec(jid="slow-job", image="host", command=["sh", "-c", script], wait="exitfile",
                   store=f"file://{store_dir}", allow_empty_input=True,
                   active_deadline_seconds=2)  # fmt: skip
    backend.submit(spec)
    assert ended.wait(60), seen

    final = backend.observe("slow-job")
    assert (final.state, final.reason, final.failed_step) == (
        JobState.FAILED, "deadline", "processor",
    )  # fmt: skip
    assert seen[-1] == final
    with LocalStore(store_dir).open_object("slow-job", "output/early.txt") as reader:
        assert b"".join(reader.iter_chunks()) == b"early\n"
    assert backend.observe("never-submitted").state is JobState.UNDEFINED
    backend.remove("slow-job")
    assert not (tmp_path / "jobs" / "slow-job").exists()
