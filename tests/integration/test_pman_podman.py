"""pman on the podman backend, end to end against the real local Swift: a job played as a
pod (get, processor, publish), its state, exit codes and logs read back from podman, and
a failing processor reported with its step and exit code.

Images as in test_podman_jobs.py (the radswift image built from this checkout, busybox
as the processor); skipped with podman's own reason where podman cannot run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from job_support import objects, put_input
from pman_support import Pman, new_jid
from swiftclient.client import Connection
from test_podman_jobs import podman_env, processor_image, radswift_image

from radswift.dev.swift import LocalSwift

pytestmark = [pytest.mark.podman, pytest.mark.swift, pytest.mark.slow]
__all__ = ["podman_env", "processor_image", "radswift_image"]  # fixtures used here

COPY = "cp -r /share/incoming/. /share/outgoing/ && echo copied"


@pytest.fixture
def pman(
    tmp_path: Path, local_swift: LocalSwift, podman_env: dict[str, str], radswift_image: str
) -> Iterator[Pman]:
    server = Pman.start(tmp_path / "pman", "--backend", "podman", "--swift-storage",
                        "--radswift-image", radswift_image,
                        env={**podman_env, **local_swift.environ()})  # fmt: skip
    yield server
    for job in server.client.get(f"{server.url}/api/v1/jobs").json()["jobs"]:
        server.client.delete(f"{server.url}/api/v1/jobs/{job['jid']}")
    server.close()


def job(jid: str, image: str, script: str) -> dict[str, object]:
    return {"jid": jid, "image": image, "entrypoint": ["sh", "-c", script],
            "memory_limit": "256Mi", "cpu_limit": "1"}  # fmt: skip


def test_a_podman_job_runs_publishes_and_reports_from_podman(
    pman: Pman, swift: Connection, processor_image: str
) -> None:
    jid = new_jid("pod")
    put_input(swift, jid, {"a.dcm": b"DICM", "b/c.nii": b"\x01" * 1000})
    reply = pman.submit(**job(jid, processor_image, COPY))
    assert reply.status_code == 201, reply.text

    done = pman.wait(jid, timeout=300)

    assert done["status"] == "finishedSuccessfully", (done, pman.log())
    assert {s: v["exit_code"] for s, v in done["steps"].items()} == {
        "get": 0, "processor": 0, "publish": 0,
    }  # fmt: skip
    assert done["publisher_state"] == "succeeded" and done["output"]["files"] == 2
    assert objects(swift, jid, "output/") == {"a.dcm": b"DICM", "b/c.nii": b"\x01" * 1000}
    assert pman.logs(jid, "processor") == "copied\n"
    assert pman.client.delete(f"{pman.url}/api/v1/jobs/{jid}").status_code == 204
    assert not (pman.directory / "jobs" / jid).exists()


def test_a_failing_podman_job_names_its_step_and_exit_code(
    pman: Pman, swift: Connection, processor_image: str
) -> None:
    jid = new_jid("pod")
    put_input(swift, jid, {"a.dcm": b"DICM"})
    pman.submit(**job(jid, processor_image, "echo part > /share/outgoing/p.txt; exit 4"))

    done = pman.wait(jid, timeout=300)

    assert done["status"] == "finishedWithError", done
    assert (done["failed_step"], done["reason"], done["exit_code"]) == (
        "processor", "exit code 4", 4,
    )  # fmt: skip
    assert objects(swift, jid, "output/") == {"p.txt": b"part\n"}
