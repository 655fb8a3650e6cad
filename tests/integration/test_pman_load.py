"""200 jobs submitted at once (the original pman corrupted 22 of 100 and hung a client):
every one is registered once and reaches its own correct final state. Bounded: no-op
processors on the local backend, at most 8 running at a time, a deadline on the whole."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from pman_support import FINISHED, Pman, new_jid, script_job

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the emissary"),
]

JOBS = 200
DEADLINE = 600.0


def test_200_jobs_submitted_at_once_all_reach_their_right_final_state(tmp_path: Path) -> None:
    pman = Pman.local(tmp_path / "pman", "--max-running", "8", store=tmp_path / "store")
    try:
        jobs = {new_jid(f"n{i}"): i % 3 for i in range(JOBS)}  # exit code 0, 1 or 2

        def submit(jid: str) -> int:
            with httpx.Client(timeout=60) as client:
                body = script_job(jid, f"exit {jobs[jid]}", type="fs")
                return client.post(f"{pman.url}/api/v1/jobs", json=body).status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            codes = list(pool.map(submit, jobs))
        assert codes == [201] * JOBS

        deadline = time.monotonic() + DEADLINE
        while True:
            page = pman.client.get(f"{pman.url}/api/v1/jobs", params={"limit": 1000}).json()
            if all(job["status"] in FINISHED for job in page["jobs"]):
                break
            assert time.monotonic() < deadline, "jobs still running after the deadline"
            time.sleep(1)

        assert page["total"] == JOBS
        for job in page["jobs"]:
            code = jobs[job["jid"]]
            expected = "finishedSuccessfully" if code == 0 else "finishedWithError"
            assert (job["status"], job["exit_code"]) == (expected, code), job
            assert job["steps"]["processor"]["exit_code"] == code
            assert job["publisher_state"] == ("succeeded" if code == 0 else "failed")
    finally:
        pman.close()
