"""pman's HTTP API on the local backend with a local-directory store (--storeBase): every
route, bad input answered 4xx with a JSON reason and nothing registered, the queue, the
ChRIS pman shape, token auth, /healthz and /metrics."""

from __future__ import annotations

import io
import itertools
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pman_support import Pman, new_jid, script_job

from radswift.jobs.local import LocalBackend
from radswift.store.local import LocalStore

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the emissary")

HOSTILE_JIDS = ["../etc", "a/b", "x" * 300, "", " space", "semi;colon", "-dash-first", "ü"]


@pytest.fixture(scope="module")
def emissary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return LocalBackend(tmp_path_factory.mktemp("emissary"), environ={}).ensure_emissary()


@pytest.fixture(scope="module")
def pman(tmp_path_factory: pytest.TempPathFactory, emissary: Path) -> Iterator[Pman]:
    server = Pman.local(tmp_path_factory.mktemp("pman-api"), emissary=emissary)
    yield server
    server.close()


def put_input(pman: Pman, key: str, files: dict[str, bytes]) -> LocalStore:
    store = LocalStore(pman.directory / "store")
    store.ensure_container(key)
    for name, data in files.items():
        store.put_object(key, f"input/{name}", io.BytesIO(data), len(data))
    return store


def total(pman: Pman, **params: Any) -> int:
    reply = pman.client.get(f"{pman.url}/api/v1/jobs", params=params)
    assert reply.status_code == 200, reply.text
    return int(reply.json()["total"])


def test_health_and_the_openapi_page_are_served(pman: Pman) -> None:
    health = pman.client.get(f"{pman.url}/healthz").json()
    assert health == {"name": "pman", "version": health["version"], "backend": "local",
                      "storage": "local"}  # fmt: skip
    schema = pman.client.get(f"{pman.url}/openapi.json").json()
    assert "/api/v1/jobs" in schema["paths"] and "/api/v1/jobs/{jid}/cancel" in schema["paths"]
    assert pman.client.get(f"{pman.url}/docs").status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"unknown_field": 1},
        {"memory_limit": "lots"},
        {"memory_limit": "0Mi"},
        {"cpu_limit": "-1"},
        {"cpu_limit": 2},
        {"number_of_workers": 0},
        {"gpu_limit": -1},
        {"memory_limit": "999999999Ti"},
        {"memory_limit": "0"},
        {"cpu_limit": "100000"},
        {"cpu_limit": "256001m"},
        {"type": "xs"},
        {"entrypoint": []},
        {"image": "bad image"},
        {"env": {"DB_PASSWORD": "x"}},
        {"env": {"RADSWIFT_KEY": "other"}},
        {"number_of_workers": 2},
        {"input_key": "../other"},
        *({"jid": jid} for jid in HOSTILE_JIDS),
    ],
)
def test_bad_input_is_a_4xx_with_a_json_reason_and_nothing_is_registered(
    pman: Pman, change: dict[str, Any]
) -> None:
    before = total(pman)
    reply = pman.submit(**{**script_job(new_jid(), "true"), **change})

    assert 400 <= reply.status_code < 500, reply.text
    body = reply.json()
    assert set(body) == {"error", "detail"} and body["detail"]
    assert total(pman) == before


def test_a_gpu_job_on_the_local_backend_is_a_422_naming_it_and_nothing_is_registered(
    pman: Pman,
) -> None:
    before = total(pman)
    reply = pman.submit(**script_job(new_jid("gpu"), "true", gpu_limit=1))

    assert reply.status_code == 422, reply.text
    assert reply.json()["error"] == "unsupported_by_backend"
    assert "local backend" in reply.json()["detail"]
    assert total(pman) == before


def test_a_body_that_is_not_json_is_a_4xx(pman: Pman) -> None:
    reply = pman.client.post(f"{pman.url}/api/v1/jobs", content=b"{not json",
                             headers={"content-type": "application/json"})  # fmt: skip
    assert reply.status_code == 422 and reply.json()["error"] == "invalid_request"


def test_a_body_over_the_cap_is_413_before_it_is_read(pman: Pman) -> None:
    before = total(pman)
    huge = script_job(new_jid(), "true", args=["x" * 1000] * 1100)
    reply = pman.submit(**huge)
    assert reply.status_code == 413 and reply.json()["error"] == "body_too_large"

    def chunks() -> Iterator[bytes]:
        yield b'{"jid": "chunked", "args": ["'
        for _ in range(2048):
            yield b"y" * 1024
        yield b'"]}'

    chunked = pman.client.post(f"{pman.url}/api/v1/jobs", content=chunks(),
                               headers={"content-type": "application/json"})  # fmt: skip
    assert chunked.status_code == 413
    assert total(pman) == before


def test_unknown_jobs_and_steps_are_404_and_422(pman: Pman) -> None:
    assert pman.client.get(f"{pman.url}/api/v1/jobs/no-such-job").status_code == 404
    assert pman.client.get(f"{pman.url}/api/v1/jobs/no-such-job").json()["error"] == "no_such_job"
    assert pman.client.post(f"{pman.url}/api/v1/jobs/no-such-job/cancel").status_code == 404
    assert pman.client.delete(f"{pman.url}/api/v1/jobs/no-such-job").status_code == 404
    reply = pman.client.get(f"{pman.url}/api/v1/jobs/no-such-job/logs/compile")
    assert reply.status_code == 422


def test_jobs_are_listed_newest_first_filtered_and_paged(pman: Pman) -> None:
    auid = f"user{new_jid()}"
    jids = [new_jid() for _ in range(3)]
    for jid in jids:
        assert pman.submit(**script_job(jid, "true", type="fs", auid=auid)).status_code == 201
    for jid in jids:
        pman.wait(jid)
    failing = new_jid()
    pman.submit(**script_job(failing, "exit 5", type="fs", auid=auid))
    pman.wait(failing)

    url = f"{pman.url}/api/v1/jobs"
    page = pman.client.get(url, params={"auid": auid, "limit": 2}).json()
    assert page["total"] == 4 and [j["jid"] for j in page["jobs"]] == [failing, jids[2]]
    rest = pman.client.get(url, params={"auid": auid, "limit": 2, "offset": 2}).json()
    assert [j["jid"] for j in rest["jobs"]] == [jids[1], jids[0]]
    failed = pman.client.get(url, params={"auid": auid, "status": "finishedWithError"}).json()
    assert [j["jid"] for j in failed["jobs"]] == [failing]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert pman.client.get(url, params={"auid": auid, "since": future}).json()["total"] == 0
    assert pman.client.get(url, params={"status": "nonsense"}).status_code == 422
    assert pman.client.get(url, params={"limit": 0}).status_code == 422


def test_delete_removes_the_job_and_its_files_and_purge_also_its_key(pman: Pman) -> None:
    kept, purged = new_jid(), new_jid()
    store = put_input(pman, kept, {"a.dcm": b"DICM"})
    put_input(pman, purged, {"a.dcm": b"DICM"})
    for jid in (kept, purged):
        pman.submit(**script_job(jid, "cp -r /share/incoming/. /share/outgoing/"))
        assert pman.wait(jid)["status"] == "finishedSuccessfully"

    assert pman.client.delete(f"{pman.url}/api/v1/jobs/{kept}").status_code == 204
    reply = pman.client.delete(f"{pman.url}/api/v1/jobs/{purged}", params={"purge": "true"})
    assert reply.status_code == 204

    for jid in (kept, purged):
        assert pman.client.get(f"{pman.url}/api/v1/jobs/{jid}").status_code == 404
        assert not (pman.directory / "jobs" / jid).exists()
    kept_names = [o.name for o in store.list_objects(kept)]
    assert kept_names == [".radswift/status.json", "input/a.dcm", "output/a.dcm"]
    assert not store.container_exists(purged)


def test_the_chris_pman_shape_submits_reads_and_deletes_a_job(pman: Pman) -> None:
    jid = new_jid("chris")
    put_input(pman, jid, {"a.dcm": b"DICM"})
    body = {
        "jid": jid, "args": ["--prefix", "out-", "--in", "somewhere"],
        "args_path_flags": ["--in"], "auid": "cube", "number_of_workers": 1,
        "cpu_limit": 1000, "memory_limit": 300, "gpu_limit": 0, "image": "fnndsc/pl-x",
        "entrypoint": ["sh", "-c", 'echo "$@" > /share/outgoing/args.txt', "pl-x"],
        "type": "ds", "env": ["PLUGIN_MODE=test"], "input_dir": "x", "output_dir": "y",
    }  # fmt: skip
    server = pman.client.get(f"{pman.url}/api/v1/").json()
    assert server["container_env"] == "local" and "server_version" in server

    reply = pman.client.post(f"{pman.url}/api/v1/", json=body)
    assert reply.status_code == 201, reply.text
    assert set(reply.json()) == {"jid", "image", "cmd", "status", "message", "timestamp", "logs"}
    pman.wait(jid)
    job = pman.client.get(f"{pman.url}/api/v1/{jid}/").json()

    assert job["status"] == "finishedSuccessfully" and job["image"] == "fnndsc/pl-x"
    assert job["cmd"].endswith("--in /share/incoming /share/incoming /share/outgoing")
    spec = pman.job(jid)["spec"]
    assert (spec["cpu_limit"], spec["memory_limit"], spec["env"]) == (
        "1000m", "300Mi", {"PLUGIN_MODE": "test"},
    )  # fmt: skip
    assert pman.client.delete(f"{pman.url}/api/v1/{jid}/").status_code == 204
    assert pman.client.get(f"{pman.url}/api/v1/{jid}/").status_code == 404


def chris_body(**fields: Any) -> dict[str, Any]:
    body = {
        "jid": new_jid("chris"), "args": [], "auid": "cube", "number_of_workers": 1,
        "cpu_limit": 1000, "memory_limit": 300, "gpu_limit": 0, "image": "fnndsc/pl-x",
        "entrypoint": ["true"], "type": "fs",
    }  # fmt: skip
    return {**body, **fields}


@pytest.mark.parametrize(
    "fields",
    [
        {"memory_limit": 2097152},  # MiB: over 1Ti
        {"cpu_limit": 10**30},
        {"cpu_limit": True},
        {"env": ["A=\u0000"]},
        {"env": ["NOEQUALS"]},
        {"jid": "a/b"},
        {"jid": "/../../etc"},
        {"jid": "//abc"},  # not quietly "abc"
    ],
)
def test_bad_values_in_the_chris_shape_are_4xx_with_a_reason_and_register_nothing(
    pman: Pman, fields: dict[str, Any]
) -> None:
    before = total(pman)

    reply = pman.client.post(f"{pman.url}/api/v1/", json=chris_body(**fields))

    assert 400 <= reply.status_code < 500, reply.text
    assert reply.json()["detail"]
    assert total(pman) == before
    assert pman.client.get(f"{pman.url}/api/v1/abc/").status_code == 404


def test_metrics_count_jobs_by_state_and_time_their_steps(pman: Pman) -> None:
    jid = new_jid()
    pman.submit(**script_job(jid, "true", type="fs"))
    pman.wait(jid)
    text = pman.client.get(f"{pman.url}/metrics").text

    assert 'pman_jobs{state="finishedSuccessfully"}' in text
    assert "pman_queue_length 0.0" in text
    assert 'pman_step_seconds_count{step="processor"}' in text


def test_beyond_max_running_jobs_wait_in_order_and_a_queued_one_cancels_at_once(
    tmp_path: Path, emissary: Path
) -> None:
    pman = Pman.local(tmp_path / "queued", "--max-running", "1", emissary=emissary)
    try:
        jids = [new_jid(f"q{i}") for i in range(4)]
        for jid in jids:
            pman.submit(**script_job(jid, "sleep 0.3", type="fs"))
        waiting = pman.job(jids[3])
        assert waiting["status"] == "notstarted" and waiting["queued"]
        cancelled = pman.client.post(f"{pman.url}/api/v1/jobs/{jids[3]}/cancel").json()
        assert (cancelled["status"], cancelled["reason"]) == ("finishedWithError", "cancelled")

        done = [pman.wait(jid) for jid in jids[:3]]
        assert all(job["status"] == "finishedSuccessfully" for job in done)
        for earlier, later in itertools.pairwise(done):
            assert earlier["finished_at"] <= later["started_at"]  # one at a time, in order
        assert pman.job(jids[3])["steps"] == {}  # it never ran
    finally:
        pman.close()


def test_token_auth_is_pfiohs(tmp_path: Path, emissary: Path) -> None:
    tokens = tmp_path / "tokens.cfg"
    tokens.write_text("[AUTH TOKENS]\nchris = secret-token-1\n")
    pman = Pman.local(
        tmp_path / "auth", "--enableTokenAuth", "--tokenPath", str(tokens), emissary=emissary
    )
    try:
        url = f"{pman.url}/api/v1/jobs"
        assert pman.client.get(url).status_code == 400
        assert pman.client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        good = pman.client.get(url, headers={"Authorization": "bearer secret-token-1"})
        assert good.status_code == 200
        assert pman.client.get(f"{pman.url}/healthz").status_code == 200
    finally:
        pman.close()
