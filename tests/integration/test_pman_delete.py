"""Deleting a job that runs on the local backend: pman cancels it, waits (bounded) for its
steps to end, removes its directory, and forgets it; the job's driver never crashes on
the directory going away, whenever the delete comes (even while pman is still starting
the job). Store: a local directory."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pman_support import Pman, new_jid, script_job

from radswift.jobs.local import LocalBackend

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the emissary")


@pytest.fixture
def pman(tmp_path: Path) -> Iterator[Pman]:
    emissary = LocalBackend(tmp_path / "e", environ={}).ensure_emissary()
    server = Pman.start(tmp_path / "pman", "--storeBase", str(tmp_path / "store"),
                        "--isolation", "none", "--emissary", str(emissary))  # fmt: skip
    yield server
    server.close()


def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")


def test_deleting_a_running_job_stops_its_processes_and_leaves_nothing(
    pman: Pman, tmp_path: Path
) -> None:
    jid, pid_file = new_jid("del"), tmp_path / "processor.pid"
    pman.submit(**script_job(jid, f"echo $$ > {pid_file}; exec sleep 120", type="fs"))
    assert eventually(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    pid = int(pid_file.read_text())

    reply = pman.client.delete(f"{pman.url}/api/v1/jobs/{jid}")

    assert reply.status_code == 204, reply.text
    assert pman.client.get(f"{pman.url}/api/v1/jobs/{jid}").status_code == 404
    assert not alive(pid)
    assert not (pman.directory / "jobs" / jid).exists()
    assert "Traceback" not in pman.log()


def test_jobs_deleted_as_soon_as_submitted_leave_no_crash_and_no_leftovers(pman: Pman) -> None:
    jids = [new_jid("del") for _ in range(8)]
    for jid in jids:
        assert pman.submit(**script_job(jid, "exec sleep 120", type="fs")).status_code == 201
        assert pman.client.delete(f"{pman.url}/api/v1/jobs/{jid}").status_code == 204

    jobs = pman.directory / "jobs"
    assert eventually(lambda: not any((jobs / jid).exists() for jid in jids)), os.listdir(jobs)
    time.sleep(0.5)  # a driver that outlived the delete would write (or crash) by now
    assert not any((jobs / jid).exists() for jid in jids)
    assert "Traceback" not in pman.log() and "Exception" not in pman.log(), pman.log()
    listed = pman.client.get(f"{pman.url}/api/v1/jobs").json()
    assert listed["total"] == 0
