"""The local ManagedBackend on its own (no HTTP): what it observes, and the deadline it
enforces when publish runs inside the service. Store: a local directory."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from radswift.errors import Conflict
from radswift.jobs.lifecycle import JobState, Observation, Step
from radswift.jobs.local_run import step_record
from radswift.jobs.managed import BackendConfig, open_backend
from radswift.jobs.managed.jobdirs import read_json, write_meta
from radswift.jobs.spec import JobSpec, job_name
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


def test_a_job_whose_directory_is_deleted_under_its_driver_ends_failed_without_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashes: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashes.append(args.exc_value))
    managed = open_backend("local", BackendConfig(root=tmp_path / "jobs", environ={},
                                                  options={"isolation": "none"}))  # fmt: skip
    seen: list[Observation] = []
    managed.start(lambda jid, observation: seen.append(observation))
    spec = JobSpec(jid="removed-job", image="host", command=["sleep", "1"], wait="exitfile",
                   store=f"file://{tmp_path / 'store'}", allow_empty_input=True)  # fmt: skip
    managed.submit(spec)
    directory = tmp_path / "jobs" / "removed-job"
    while step_record(directory, "processor") is None:  # get is done, the processor runs
        time.sleep(0.01)
    driver = managed.backend.runner("removed-job")  # type: ignore[attr-defined]

    shutil.rmtree(directory)  # the processor then ends, and publish would run
    driver.thread.join(60)

    assert not driver.thread.is_alive()
    assert crashes == []
    assert not directory.exists()
    assert (seen[-1].state, seen[-1].reason) == (JobState.FAILED, "job-directory-removed")


def test_a_job_directory_of_another_jid_is_refused_not_shared(tmp_path: Path) -> None:
    backend = open_backend("local", BackendConfig(root=tmp_path / "jobs", environ={},
                                                  options={"isolation": "none"}))  # fmt: skip
    backend.start(lambda jid, observation: None)
    intruder = "victim-d72cee2eb1"
    taken = tmp_path / "jobs" / job_name(intruder)  # however another job came to own it
    taken.mkdir(parents=True)
    write_meta(taken, "Victim", {}, None)
    spec = JobSpec(jid=intruder, image="host", command=["true"], wait="exitfile",
                   store=f"file://{tmp_path / 'store'}", allow_empty_input=True)  # fmt: skip

    with pytest.raises(Conflict):
        backend.submit(spec)
    assert backend.observe(intruder).state is JobState.UNDEFINED
    with pytest.raises(Conflict):
        list(backend.logs(intruder, Step.PROCESSOR))
    with pytest.raises(Conflict):
        backend.remove(intruder)
    assert read_json(taken / "job.json") == {"jid": "Victim", "submitted": {}, "spec_hash": None}


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap (Debian bubblewrap) is needed")
def test_a_job_in_bubblewrap_past_its_deadline_is_stopped_whole(tmp_path: Path) -> None:
    backend = open_backend("local", BackendConfig(root=tmp_path / "jobs", environ={},
                                                  options={"isolation": "bubblewrap"}))  # fmt: skip
    ended = threading.Event()
    backend.start(lambda jid, observation: observation.state.finished and ended.set())
    marker = f"59.{time.time_ns() % 10**9:09d}"  # sleep's argument, unique to this test
    script = f"setsid sh -c 'sleep {marker}' & exec sleep {marker}"
    spec = JobSpec(jid="boxed-job", image="host", command=["sh", "-c", script], wait="exitfile",
                   store=f"file://{tmp_path / 'store'}", allow_empty_input=True,
                   active_deadline_seconds=2)  # fmt: skip
    backend.submit(spec)

    assert ended.wait(45)
    final = backend.observe("boxed-job")
    assert (final.state, final.reason) == (JobState.FAILED, "deadline")
    leftovers = [p for p in Path("/proc").glob("[0-9]*/cmdline") if marker in _read_text(p)]
    assert leftovers == []


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode(errors="replace")
    except OSError:
        return ""
