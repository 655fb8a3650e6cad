"""pman's legacy protocol (pman 2.2.0.4's) driven by the unmodified clients of that era.

pfurl 2.3.0.1 (RADSWIFT_PFURL) runs jobs and reads their status through
`POST /api/v1/cmd`; the other actions, the reply shapes and bad input are checked with
httpx. The coordinator pfcon 2.2.4.6 (RADSWIFT_PFCON) is in test_pman_legacy_pfcon.py.
pman runs the local backend over a local-directory store here.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from pman_support import Pman, new_jid

from radswift.store.local import LocalStore

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the emissary")

FINISHED = ("finishedSuccessfully", "finishedWithError")


@pytest.fixture(scope="module")
def pman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pman]:
    server = Pman.local(tmp_path_factory.mktemp("pman-legacy"))
    yield server
    server.close()


def pfurl_call(pfurl: str, pman: Pman, msg: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """One message through the real pfurl, as pfcon sends them: `--jsonwrapper payload`."""
    done = subprocess.run(
        [pfurl, "--verb", "POST", "--raw", "--quiet", "--jsonwrapper", "payload",
         "--http", f"{pman.url.removeprefix('http://')}/api/v1/cmd", "--msg", json.dumps(msg)],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    reply: dict[str, Any] = json.loads(done.stdout)
    return reply


def post(pman: Pman, message: dict[str, Any] | bytes, path: str = "/api/v1/cmd") -> Any:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return pman.client.post(f"{pman.url}{path}", content=body, headers={"Mode": "control"})


def status_of(pman: Pman, jid: str) -> dict[str, Any]:
    reply = post(pman, {"payload": {"action": "status", "meta": {"key": "jid", "value": jid}}})
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def run_msg(jid: str, cmd: str, **meta: Any) -> dict[str, Any]:
    return {"action": "run", "meta": {"cmd": cmd, "auid": "chris", "jid": jid,
                                      "threaded": True, **meta}}  # fmt: skip


def put_input(pman: Pman, key: str, files: dict[str, bytes]) -> None:
    store = LocalStore(pman.directory / "store")
    store.ensure_container(key)
    for name, data in files.items():
        store.put_object(key, f"input/{name}", io.BytesIO(data), len(data))


def test_pfurl_says_hello(pman: Pman, pfurl: str, tmp_path: Path) -> None:
    msg = {"action": "hello", "meta": {"askAbout": "echoBack", "echoBack": "Hi there!"}}
    reply = pfurl_call(pfurl, pman, msg, tmp_path)
    assert reply["status"] is True and reply["action"] == "hello"
    assert reply["d_ret"]["echoBack"] == {"msg": "Hi there!"}
    assert reply["d_ret"]["name"] == "pman"


def test_pfurl_runs_a_plugin_and_reads_its_status_until_it_finished(
    pman: Pman, pfurl: str, tmp_path: Path
) -> None:
    jid = new_jid("pfurl")
    put_input(pman, jid, {"scan.dcm": b"DICM" * 100})
    cmd = "cp -rT /share/incoming /share/outgoing"
    submitted = pfurl_call(pfurl, pman, run_msg(jid, cmd, cpu_limit="1000m",
                                                memory_limit="512Mi", gpu_limit="0",
                                                number_of_workers="1"), tmp_path)  # fmt: skip
    assert submitted["status"] is True and "d_ret" not in submitted  # threaded: at once
    assert submitted["meta"]["jid"] == jid

    early = pfurl_call(pfurl, pman, {"action": "status", "meta": {"key": "jid", "value": jid}},
                       tmp_path)  # fmt: skip
    assert early["status"] is True and len(early["d_ret"]["l_status"]) == 1
    pman.wait(jid)
    status = pfurl_call(pfurl, pman, {"action": "status", "meta": {"key": "jid", "value": jid}},
                        tmp_path)  # fmt: skip
    assert status["status"] is True
    assert status["d_ret"]["l_status"] == ["finishedSuccessfully"]
    assert status["d_ret"]["0.start"] == {"jobRoot": jid, "startTrigger": [True]}
    assert status["d_ret"]["0.end"] == {"jobRoot": jid, "returncode": [0]}
    job = pman.job(jid)
    assert job["cmd"] == ["cp", "-rT", "/share/incoming", "/share/outgoing"]
    assert job["spec"]["cpu_limit"] == "1000m" and job["spec"]["memory_limit"] == "512Mi"
    assert job["output"]["files"] == 1  # the copy was published to output/


def test_a_failing_command_is_finished_with_error_and_its_output_in_l_logs(pman: Pman) -> None:
    jid = new_jid("fail")
    reply = post(pman, run_msg(jid, "sh -c 'echo broken >&2; exit 3' /share/outgoing",
                               threaded=False))  # fmt: skip
    assert reply.status_code == 200, reply.text
    d_ret = reply.json()["d_ret"]  # not threaded: the reply waits for the end
    assert d_ret["l_status"] == ["finishedWithError"]
    assert d_ret["0.end"]["returncode"] == [3]
    assert "broken" in d_ret["l_logs"][0]


def test_cmd_is_split_like_a_shell_but_never_run_by_one(pman: Pman) -> None:
    jid = new_jid("noshell")
    reply = post(pman, run_msg(jid, "echo '$(id)' \"a b\" ';' `true` /share/outgoing",
                               threaded=False))  # fmt: skip
    assert reply.json()["d_ret"]["l_status"] == ["finishedSuccessfully"]
    assert pman.job(jid)["cmd"] == ["echo", "$(id)", "a b", ";", "`true`", "/share/outgoing"]
    assert pman.logs(jid, "processor").startswith("$(id) a b ; `true` ")


def test_bare_messages_and_the_trailing_slash_are_served(pman: Pman) -> None:
    jid = new_jid("bare")
    reply = post(pman, run_msg(jid, "true /share/outgoing"), path="/api/v1/cmd/")
    assert reply.status_code == 200 and reply.json()["status"] is True
    pman.wait(jid)
    assert status_of(pman, jid)["d_ret"]["l_status"] == ["finishedSuccessfully"]


def test_the_same_run_twice_is_one_job_and_another_under_its_jid_is_a_conflict(
    pman: Pman,
) -> None:
    jid = new_jid("twice")
    assert post(pman, run_msg(jid, "true /share/outgoing")).status_code == 200
    assert post(pman, run_msg(jid, "true /share/outgoing")).status_code == 200
    other = post(pman, run_msg(jid, "false /share/outgoing"))
    assert other.status_code == 409 and other.json()["status"] is False
    assert pman.wait(jid)["cmd"] == ["true", "/share/outgoing"]  # the first one, run once


def test_an_unknown_job_has_the_originals_empty_status(pman: Pman) -> None:
    reply = status_of(pman, "no-such-job")
    assert reply["status"] is False
    assert reply["d_ret"]["l_status"] == [] and reply["d_ret"]["-1.end"]["returncode"] is None


def test_search_info_done_get_and_delete(pman: Pman) -> None:
    jid = new_jid("actions")
    post(pman, run_msg(jid, "true /share/outgoing", auid="searcher", threaded=False))
    by_jid = {"key": "jid", "value": jid}
    search = post(pman, {"action": "search", "meta": {"key": "auid", "value": "searcher"}})
    assert search.json()["d_ret"] == {"0": {jid: {"auid": "searcher"}}}
    info = post(pman, {"action": "info", "meta": by_jid}).json()["d_ret"]
    assert info["0.1"] == {jid: {"endInfo": {"allJobsDone": True}}}
    done = post(pman, {"action": "done", "meta": by_jid}).json()
    assert done["status"] is True and "l_status" not in done["d_ret"]
    got = post(pman, {"action": "get", "meta": {"path": f"/{jid}/endInfo"}}).json()
    assert got["d_ret"] == {jid: {"endInfo": {"allJobsDone": True}}}
    tree = pman.client.get(f"{pman.url}/api/v1/{jid}/status").json()
    assert tree["GET"] == {jid: {"status": "finishedSuccessfully"}}
    assert pman.client.get(f"{pman.url}/api/v1/{jid}/nothing").status_code == 404

    deleted = post(pman, {"action": "delete", "meta": by_jid})
    assert deleted.json()["d_ret"] == {"action": "Delete Job", "job_id": jid, "status": True}
    assert pman.client.get(f"{pman.url}/api/v1/jobs/{jid}").status_code == 404
    assert post(pman, {"action": "delete", "meta": by_jid}).status_code == 404


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "bad_message"),
        (b"\xff\xfe", "bad_message"),
        (b"[1, 2]", "bad_message"),
        (b"{'action': __import__('os').system('true')}", "bad_message"),
        (b'{"payload": {"action": "quit", "meta": {}}}', "unknown_action"),
        (b'{"action": "run", "meta": "x"}', "bad_message"),
        (b" " * (300 * 1024), "bad_message"),
    ],
)
def test_malformed_messages_are_4xx_with_a_json_reason(
    pman: Pman, body: bytes, reason: str
) -> None:
    reply = post(pman, body)
    assert 400 <= reply.status_code < 500
    assert reply.json()["status"] is False and reply.json()["error"] == reason


@pytest.mark.parametrize(
    ("meta", "reason"),
    [
        ({"cmd": "ls -l"}, "bad_cmd"),  # no plugin directories
        ({"cmd": "/share/outgoing"}, "bad_cmd"),
        ({"cmd": "echo 'unbalanced /share/outgoing"}, "bad_cmd"),
        ({"cmd": 42}, "bad_cmd"),
        ({"jid": "../etc"}, "invalid_request"),
        ({"jid": ""}, "bad_jid"),
        ({"memory_limit": "lots"}, "invalid_request"),
        ({"cpu_limit": "0m"}, "invalid_request"),
        ({"gpu_limit": "-1"}, "invalid_request"),
        ({"number_of_workers": "many"}, "invalid_request"),
        ({"container": {"target": {"image": "bad image"}}}, "invalid_request"),
        ({"container": "x"}, "invalid_request"),
    ],
)
def test_a_bad_run_is_4xx_and_registers_nothing(
    pman: Pman, meta: dict[str, Any], reason: str
) -> None:
    jid = new_jid("bad")
    message = run_msg(jid, "true /share/outgoing")
    message["meta"].update(meta)
    reply = post(pman, {"payload": message})
    assert 400 <= reply.status_code < 500, reply.text
    assert reply.json()["error"] == reason and reply.json()["msg"]
    assert pman.client.get(f"{pman.url}/api/v1/jobs/{jid}").status_code == 404


def test_the_reply_never_echoes_a_credential_header(pman: Pman) -> None:
    message = {"action": "hello", "meta": {"askAbout": "timestamp"}}
    secrets = {"Authorization": "bearer s3cret", "Cookie": "s=s3cret", "X-Auth-Token": "s3cret"}
    reply = pman.client.post(f"{pman.url}/api/v1/cmd", json={"payload": message},
                             headers={**secrets, "Mode": "control"})  # fmt: skip
    assert reply.status_code == 200
    assert "s3cret" not in reply.text and "Authorization" not in reply.text
    assert "Mode: control" in reply.json()["receivedByServer"]


def test_clients_waiting_on_unthreaded_runs_hold_no_thread_the_other_routes_need(
    tmp_path: Path,
) -> None:
    """More clients than the server has worker threads (40) wait for runs that do not end
    (one runs, the others queue): the listing still answers, every run registered."""
    server = Pman.local(tmp_path / "pman", "--max-running", "1")
    jids = [new_jid("wait") for _ in range(48)]

    def run_and_wait(jid: str) -> None:
        message = json.dumps(
            {"payload": run_msg(jid, "sh -c 'sleep 120' /share/outgoing", threaded=False)}
        )
        with httpx.Client(timeout=90) as client, contextlib.suppress(httpx.HTTPError):
            client.post(f"{server.url}/api/v1/cmd", content=message, headers={"Mode": "control"})

    pool = ThreadPoolExecutor(max_workers=len(jids))
    try:
        for jid in jids:
            pool.submit(run_and_wait, jid)
        deadline, total = time.monotonic() + 60, 0
        while total < len(jids) and time.monotonic() < deadline:
            listed = server.client.get(f"{server.url}/api/v1/jobs", timeout=20)
            total = listed.json()["total"]
            time.sleep(0.1)
        assert total == len(jids)
        assert server.client.get(f"{server.url}/api/v1/jobs", timeout=20).status_code == 200
    finally:
        for jid in jids:  # the waiting clients are answered (404): their jobs are gone
            server.client.delete(f"{server.url}/api/v1/jobs/{jid}", timeout=60)
        pool.shutdown(wait=True)
        server.close()
