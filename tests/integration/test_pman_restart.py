"""pman killed with SIGKILL while jobs run, then restarted on the same registry: every
job's state is right at once, the jobs that kept running finish, the queued ones run, and
a job whose processes died meanwhile is finishedWithError saying so."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from pman_support import Pman, new_jid, script_job

from radswift.store.local import LocalStore

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the emissary")


def kill_job_processes(jobs_dir: Path, jid: str) -> None:
    """What a reboot or an OOM killer would do to one job while pman is down."""
    for record in (jobs_dir / jid / "steps").glob("*.json"):
        pid = json.loads(record.read_text()).get("pid")
        if isinstance(pid, int):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def output(store: LocalStore, key: str, name: str) -> bytes:
    with store.open_object(key, f"output/{name}") as reader:
        return b"".join(reader.iter_chunks())


def test_a_restarted_pman_knows_every_job_and_finishes_the_running_ones(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    pman = Pman.local(tmp_path / "pman", "--max-running", "3", store=store_dir)
    try:
        done, survivor, victim, queued = (new_jid(n) for n in ("done", "surv", "vict", "queue"))
        pman.submit(**script_job(done, "echo a > /share/outgoing/a.txt", type="fs"))
        pman.wait(done)
        slow = "echo started; sleep 3; echo survived > /share/outgoing/s.txt"
        pman.submit(**script_job(survivor, slow, type="fs"))
        pman.submit(**script_job(victim, "echo started; exec sleep 120", type="fs"))
        pman.submit(**script_job(new_jid("busy"), "exec sleep 120", type="fs"))
        pman.submit(**script_job(queued, "echo q > /share/outgoing/q.txt", type="fs"))
        for jid in (survivor, victim):
            pman.wait(jid, until=lambda job: "started" in pman.logs(job["jid"], "processor"))
        assert pman.job(queued)["queued"]

        pman.kill()
        kill_job_processes(pman.directory / "jobs", victim)
        pman.restart()

        states = {jid: pman.job(jid) for jid in (done, survivor, victim, queued)}
        assert states[done]["status"] == "finishedSuccessfully"
        assert states[survivor]["status"] in ("started", "finishedSuccessfully")
        assert (states[victim]["status"], states[victim]["reason"]) == (
            "finishedWithError", "processes-died",
        )  # fmt: skip
        assert states[victim]["failed_step"] == "processor"
        assert states[queued]["status"] in ("notstarted", "started", "finishedSuccessfully")

        survived, ran = pman.wait(survivor), pman.wait(queued)
        assert survived["status"] == "finishedSuccessfully", survived
        assert survived["publisher_state"] == "succeeded"
        assert ran["status"] == "finishedSuccessfully", ran
        store = LocalStore(store_dir)
        assert output(store, survivor, "s.txt") == b"survived\n"
        assert output(store, queued, "q.txt") == b"q\n"
    finally:
        for job in pman.client.get(f"{pman.url}/api/v1/jobs").json()["jobs"]:
            pman.client.delete(f"{pman.url}/api/v1/jobs/{job['jid']}")
        pman.close()


def test_clear_db_forgets_every_job(tmp_path: Path) -> None:
    pman = Pman.local(tmp_path / "pman", store=tmp_path / "store")
    jid = new_jid()
    pman.submit(**script_job(jid, "true", type="fs"))
    pman.wait(jid)
    pman.stop()
    pman.args.append("--clearDB")
    pman.restart()
    try:
        assert pman.client.get(f"{pman.url}/api/v1/jobs").json()["total"] == 0
    finally:
        pman.close()


def test_sigterm_stops_pman_gracefully_and_its_running_job_finishes_after_a_restart(
    tmp_path: Path,
) -> None:
    store_dir = tmp_path / "store"
    pman = Pman.local(tmp_path / "pman", store=store_dir)
    try:
        jid = new_jid("term")
        script = "echo started; sleep 2; echo after > /share/outgoing/after.txt"
        pman.submit(**script_job(jid, script, type="fs"))
        pman.wait(jid, until=lambda _: "started" in pman.logs(jid, "processor"))

        assert pman.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises it once shut down
        assert "stopped; 1 job(s) left running" in pman.log()
        pman.restart()

        assert pman.wait(jid)["status"] == "finishedSuccessfully"
        assert output(LocalStore(store_dir), jid, "after.txt") == b"after\n"
    finally:
        pman.close()
