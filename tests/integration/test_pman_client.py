"""`radswift job submit|status|logs|list|cancel|rm`: the pman client, run as a user runs it
(the installed `radswift` command) against a real pman."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pman_support import Pman, new_jid

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the emissary")

RADSWIFT = str(Path(sys.executable).parent / "radswift")


@pytest.fixture(scope="module")
def pman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pman]:
    server = Pman.local(tmp_path_factory.mktemp("pman-client"))
    yield server
    server.close()


def job(pman: Pman, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RADSWIFT_PMAN": pman.url}
    return subprocess.run([RADSWIFT, "job", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def test_submit_watch_status_logs_list_and_rm(pman: Pman) -> None:
    jid = new_jid("cli")
    script = "echo hello; echo x > /share/outgoing/x.txt"
    submitted = job(pman, "submit", "--jid", jid, "--image", "host", "--type", "fs",
                    "--auid", "ann", "--", "sh", "-c", script)  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    assert submitted.stdout == f"{jid}: submitted; notstarted\n"

    watched = job(pman, "status", jid, "--watch")
    assert watched.returncode == 0 and "finishedSuccessfully" in watched.stdout

    status = json.loads(job(pman, "status", jid, "--json").stdout)
    assert status["status"] == "finishedSuccessfully" and status["output"]["files"] == 1
    human = job(pman, "status", jid).stdout
    assert human.startswith(f"{jid}: finishedSuccessfully\n") and "1 file(s)" in human
    assert job(pman, "logs", jid).stdout == "hello\n"
    assert job(pman, "logs", jid, "--follow").stdout == "hello\n"
    listed = json.loads(job(pman, "list", "--auid", "ann", "--json").stdout)
    assert [j["jid"] for j in listed["jobs"]] == [jid]
    assert jid in job(pman, "list").stdout

    assert job(pman, "rm", jid).returncode == 0
    missing = job(pman, "status", jid)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"radswift: error: pman: no job '{jid}' (404)"


def test_a_failed_job_says_why_and_a_cancel_is_reported(pman: Pman) -> None:
    failing, sleeping = new_jid("cli"), new_jid("cli")
    job(pman, "submit", "--jid", failing, "--image", "host", "--type", "fs", "--", "sh", "-c",
        "echo broken >&2; exit 7")  # fmt: skip
    job(pman, "submit", "--jid", sleeping, "--image", "host", "--type", "fs", "--", "sh", "-c",
        "echo started; exec sleep 60")  # fmt: skip
    pman.wait(failing)
    human = job(pman, "status", failing).stdout
    assert "failed: processor: exit code 7" in human and "broken" in human

    pman.wait(sleeping, until=lambda _: "started" in pman.logs(sleeping, "processor"))
    cancelled = job(pman, "cancel", sleeping)
    assert cancelled.returncode == 0, cancelled.stderr
    assert pman.wait(sleeping)["reason"] == "cancelled"


def test_bad_input_and_a_missing_url_are_one_line_and_a_non_zero_exit(pman: Pman) -> None:
    bad = job(pman, "submit", "--jid", "../x", "--image", "host", "--", "true")
    assert bad.returncode == 2 and bad.stderr.startswith("radswift: error: pman: body.jid")
    assert bad.stderr.count("\n") == 1
    env = {k: v for k, v in os.environ.items() if k != "RADSWIFT_PMAN"}
    nowhere = subprocess.run([RADSWIFT, "job", "list"], env=env, capture_output=True,
                             text=True, check=False)  # fmt: skip
    assert nowhere.returncode == 2 and "--pman URL" in nowhere.stderr
