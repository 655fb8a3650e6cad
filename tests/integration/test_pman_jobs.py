"""pman runs jobs on the local backend against the real local Swift: every way a job ends.

Input is put with python-swiftclient and output read back with it; pman is the real
`pman` command, driven over HTTP.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from job_support import objects, put_input
from pman_support import Pman, new_jid, script_job
from swiftclient.client import Connection

from radswift.dev.swift import LocalSwift
from radswift.jobs.local import LocalBackend

pytestmark = [
    pytest.mark.swift,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the emissary"),
]

COPY = "cp -r /share/incoming/. /share/outgoing/ && echo copied"
STUDY = {"series/IM-0001.dcm": b"DICM" + b"\x01" * 5000, "brain.nii": b"\x02" * 20000}


@pytest.fixture(scope="session")
def emissary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return LocalBackend(tmp_path_factory.mktemp("emissary"), environ={}).ensure_emissary()


@pytest.fixture
def pman(tmp_path: Path, local_swift: LocalSwift, emissary: Path) -> Iterator[Pman]:
    server = Pman.start(
        tmp_path / "pman", "--swift-storage", "--isolation", "none",
        "--emissary", str(emissary), env=local_swift.environ(),
    )  # fmt: skip
    yield server
    server.close()


def test_a_ds_job_fetches_processes_and_publishes_and_says_what_it_published(
    pman: Pman, swift: Connection
) -> None:
    jid = new_jid()
    put_input(swift, jid, STUDY)
    reply = pman.submit(**script_job(jid, COPY, auid="radiologist"))
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "notstarted"

    job = pman.wait(jid)

    assert job["status"] == "finishedSuccessfully", job
    assert (job["exit_code"], job["failed_step"], job["reason"]) == (0, None, None)
    assert job["publisher_state"] == "succeeded"
    assert job["output"]["files"] == 2 and job["output"]["bytes"] == 25004
    assert job["output"]["layout"] == "objects"
    assert {s: v["exit_code"] for s, v in job["steps"].items()} == {
        "get": 0, "processor": 0, "publish": 0,
    }  # fmt: skip
    assert job["started_at"] <= job["finished_at"]
    assert job["backend"]["isolation"] == "none"
    assert objects(swift, jid, "output/") == STUDY
    assert pman.logs(jid, "processor") == "copied\n"
    assert "downloaded 2 files" in pman.logs(jid, "get")


def test_a_job_whose_get_fails_says_so_and_runs_nothing_else(pman: Pman, swift: Connection) -> None:
    jid = new_jid()  # a ds plugin needs input/: this key has none
    pman.submit(**script_job(jid, "touch /share/outgoing/ran"))

    job = pman.wait(jid)

    assert job["status"] == "finishedWithError"
    assert (job["failed_step"], job["reason"]) == ("get", "NoInput")
    assert set(job["steps"]) == {"get"}
    assert "input" in (job["detail"] or "")


def test_a_processor_exiting_non_zero_fails_the_job_and_its_outputs_are_kept(
    pman: Pman, swift: Connection
) -> None:
    jid = new_jid()
    put_input(swift, jid, {"a.dcm": b"DICM"})
    pman.submit(**script_job(jid, "echo partial > /share/outgoing/part.txt; echo bad >&2; exit 3"))

    job = pman.wait(jid)

    assert job["status"] == "finishedWithError"
    assert (job["failed_step"], job["reason"], job["exit_code"]) == ("processor", "exit code 3", 3)
    assert job["publisher_state"] == "failed"
    assert "bad" in job["detail"]
    assert objects(swift, jid, "output/") == {"part.txt": b"partial\n"}


def test_a_publish_that_fails_is_the_failing_step_with_the_publishers_reason(
    pman: Pman, swift: Connection
) -> None:
    jid = new_jid()
    put_input(swift, jid, {"a.dcm": b"DICM"})
    pman.submit(**script_job(jid, "rm -rf /share/outgoing"))  # nothing left to publish

    job = pman.wait(jid)

    assert job["status"] == "finishedWithError"
    assert (job["failed_step"], job["reason"]) == ("publish", "upload-failed")
    assert job["steps"]["processor"]["exit_code"] == 0
    assert job["publisher_state"] == "upload-failed"


def test_an_fs_job_runs_on_a_key_without_input(pman: Pman, swift: Connection) -> None:
    jid = new_jid()
    script = 'ls -A /share/incoming > /share/outgoing/listing.txt; echo made > "$0/made.txt"'
    pman.submit(**script_job(jid, script, type="fs"))

    job = pman.wait(jid)

    assert job["status"] == "finishedSuccessfully", job
    assert objects(swift, jid, "output/") == {"listing.txt": b"", "made.txt": b"made\n"}


def test_a_job_cancelled_while_running_ends_cancelled_and_what_it_wrote_is_published(
    pman: Pman, swift: Connection
) -> None:
    jid = new_jid()
    put_input(swift, jid, {"a.dcm": b"DICM"})
    script = "echo so-far > /share/outgoing/so-far.txt; echo started; exec sleep 120"
    pman.submit(**script_job(jid, script))
    pman.wait(jid, until=lambda job: "started" in pman.logs(jid, "processor"))

    reply = pman.client.post(f"{pman.url}/api/v1/jobs/{jid}/cancel")
    assert reply.status_code == 200, reply.text
    job = pman.wait(jid)

    assert job["status"] == "finishedWithError"
    assert job["reason"] == "cancelled"
    assert job["publisher_state"] == "failed"  # the processor was stopped: exit 143
    assert job["steps"]["processor"]["exit_code"] == 143
    assert objects(swift, jid, "output/") == {"so-far.txt": b"so-far\n"}


def test_the_same_submit_twice_is_one_job_and_another_spec_under_its_jid_is_refused(
    pman: Pman, swift: Connection
) -> None:
    jid = new_jid()
    put_input(swift, jid, {"a.dcm": b"DICM"})
    fields = script_job(jid, "echo run >> /share/outgoing/runs.txt")
    first, again = pman.submit(**fields), pman.submit(**fields)
    other = pman.submit(**{**fields, "args": ["--other"]})

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json()["jid"] == jid and again.json()["created_at"] == first.json()["created_at"]
    assert other.json()["error"] == "jid_conflict"
    assert pman.wait(jid)["status"] == "finishedSuccessfully"
    assert pman.submit(**fields).status_code == 200  # still the same job once finished
    assert objects(swift, jid, "output/") == {"runs.txt": b"run\n"}  # it ran once


def test_logs_followed_stream_until_the_step_ends(pman: Pman, swift: Connection) -> None:
    jid = new_jid()
    put_input(swift, jid, {"a.dcm": b"DICM"})
    pman.submit(**script_job(jid, "for i in 1 2 3; do echo line $i; sleep 0.3; done"))
    pman.wait(jid, until=lambda job: job["steps"].get("processor") is not None)

    started = time.monotonic()
    url = f"{pman.url}/api/v1/jobs/{jid}/logs/processor"
    with pman.client.stream("GET", url, params={"follow": "true"}) as reply:
        text = "".join(reply.iter_text())

    assert text == "line 1\nline 2\nline 3\n"
    assert time.monotonic() - started < 30
    assert pman.logs(jid, "processor", tail=1) == "line 3\n"
    assert pman.logs(jid, "processor", full="true") == text
