"""pfcon 2.2.4.6, the ChRIS coordinator of the seed's time, unmodified, drives radswift's
pfioh and pman through its own `coordinate` message: push the source to pfioh, run the
plugin on pman (here a copy of /share/incoming to /share/outgoing), poll pman's status,
pull the key back from pfioh, then put the pulled files into "CUBE's" Swift. pfioh
(--swift-storage) and pman (--swift-storage, local backend) share one real local Swift,
which is also the Swift pfcon's `swiftPut` writes to (v1 auth, set through pfcon's
`internalctl`). Both services require a token, which pfcon sends as each service's
`authToken`.

pfcon lives in its own venv (it pins old dependencies): RADSWIFT_PFCON names its
executable (`./run tests` makes $CACHE/pfcon-venv). Its clients are the legacy pfurl
(RADSWIFT_PFURL). Without them this test fails rather than skips.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pfioh_helpers import free_port, pfioh_process, tree_digest
from pman_support import Pman
from swiftclient.client import Connection

from radswift.dev.swift import LocalSwift
from radswift.jobs.local import LocalBackend
from trees import make_tree

pytestmark = [
    pytest.mark.swift,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the emissary"),
]

TOKEN = "pfcon-" + uuid.uuid4().hex
SOURCE = {
    "series/img001.dcm": os.urandom(200_000),
    "series/img002.dcm": os.urandom(50_000),
    "report.txt": b"findings: none\n",
}
PFCON_FILES = ("jobStatus.json", "jobStatusSummary.json")  # pfcon writes them into the target
CUBE_CONTAINER = "users"


@pytest.fixture(scope="module")
def pfcon_exe() -> str:
    path = os.environ.get("RADSWIFT_PFCON", "")
    if not path or not Path(path).is_file():
        pytest.fail(
            "set RADSWIFT_PFCON to the pfcon 2.2.4.6 executable of a separate venv "
            "(python3 -m venv V && V/bin/pip install pfcon==2.2.4.6)"
        )
    return path


@contextmanager
def pfcon_process(exe: str, directory: Path) -> Iterator[str]:
    """pfcon on a free port (it answers with --httpResponse, as CUBE ran it); stopped by
    its PID (its coordination threads may still be polling)."""
    port = free_port()
    log = (directory / "pfcon.log").open("wb")
    proc = subprocess.Popen(
        [exe, "--ip", "127.0.0.1", "--port", str(port), "--forever", "--httpResponse",
         "--coordBlockSeconds", "1", "--verbosity", "1"],
        stdout=log, stderr=subprocess.STDOUT, cwd=directory, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert proc.poll() is None, (directory / "pfcon.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "pfcon did not start"
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()


def to_pfcon(pfurl: str, address: str, msg: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """One message to pfcon through the legacy pfurl (`--jsonwrapper payload`). pfcon's
    --httpResponse reply reaches pfurl's output as one string: status line, headers, JSON."""
    done = subprocess.run(
        [pfurl, "--verb", "POST", "--raw", "--quiet", "--jsonwrapper", "payload",
         "--http", f"{address}/api/v1/cmd", "--msg", json.dumps(msg)],
        cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    raw = json.loads(done.stdout)
    assert isinstance(raw, str) and raw.startswith("200 OK"), done.stdout[:500]
    reply: dict[str, Any] = json.loads(raw.split("\r\n\r\n", 1)[1])
    return reply


def configure(pfurl: str, address: str, swift: LocalSwift, pfioh: str, pman: str,
              cwd: Path) -> None:  # fmt: skip
    """A service `radswift` (our pfioh and pman, with the token) and CUBE's Swift."""
    service = {
        role: {"addr": url.removeprefix("http://"), "baseURLpath": "api/v1/cmd/",
               "status": "undefined", "authToken": TOKEN}
        for role, url in (("data", pfioh), ("compute", pman))
    }  # fmt: skip
    settings: list[tuple[str, Any]] = [("/service/radswift", service)]
    settings += [("/swift/auth_url", swift.auth_url), ("/swift/username", swift.user),
                 ("/swift/key", swift.key), ("/swift/container_name", CUBE_CONTAINER)]  # fmt: skip
    for var, value in settings:  # pfcon sets a leaf from a string, a subtree from a dict
        reply = to_pfcon(pfurl, address, {"action": "internalctl",
                                          "meta": {"var": var, "set": value}}, cwd)  # fmt: skip
        assert reply["status"] is True, reply


def coordinate(jid: str, source: Path, target: Path) -> dict[str, Any]:
    """pfcon's `coordinate` message, as CUBE sent it (the docstring of coordinate_process)."""
    transport = {"mechanism": "compress",
                 "compress": {"archive": "zip", "unpack": True, "cleanup": True}}  # fmt: skip
    manager = {"image": "fnndsc/swarm", "app": "swarm.py",
               "env": {"meta-store": "key", "serviceType": "docker", "shareDir": "%shareDir",
                       "serviceName": jid}}  # fmt: skip
    return {
        "action": "coordinate",
        "threadAction": False,
        "meta-store": {"meta": "meta-compute", "key": "jid"},
        "meta-data": {
            "remote": {"key": "%meta-store"},
            "localSource": {"path": str(source)},
            "localTarget": {"path": str(target), "createDir": True},
            "specialHandling": {"op": "plugin", "cleanup": True},
            "transport": transport,
            "service": "radswift",
        },
        "meta-compute": {
            "cmd": "cp -rT /share/incoming /share/outgoing",
            "auid": "chris", "jid": jid, "threaded": True, "number_of_workers": "1",
            "cpu_limit": "1000m", "memory_limit": "200Mi", "gpu_limit": "0",
            "container": {"target": {"image": "fnndsc/pl-copy", "cmdParse": False},
                          "manager": manager},
            "service": "radswift",
        },
    }  # fmt: skip


def test_pfcon_coordinates_a_copy_plugin_through_radswifts_pfioh_and_pman(
    local_swift: LocalSwift, pfurl: str, pfcon_exe: str, tmp_path: Path
) -> None:
    token_file = tmp_path / "tokens.ini"
    token_file.write_text(f"[AUTH TOKENS]\npfcon = {TOKEN}\n")
    auth = ["--enableTokenAuth", "--tokenPath", str(token_file)]
    env = local_swift.environ()
    emissary = LocalBackend(tmp_path / "emissary", environ={}).ensure_emissary()
    pman = Pman.start(tmp_path / "pman", "--swift-storage", "--isolation", "none",
                      "--emissary", str(emissary), *auth, env=env)  # fmt: skip
    pman.client.headers["Authorization"] = f"Bearer {TOKEN}"
    jid = f"pfcon-{uuid.uuid4().hex[:10]}"
    source = make_tree(tmp_path / "source", SOURCE)
    target = tmp_path / "target"
    try:
        with (
            pfioh_process(
                ["--forever", "--httpResponse", "--swift-storage", "--createDirsAsNeeded", *auth],
                env,
            ) as pfioh,  # fmt: skip
            pfcon_process(pfcon_exe, tmp_path) as address,
        ):
            configure(pfurl, address, local_swift, pfioh, pman.url, tmp_path)
            result = to_pfcon(pfurl, address, coordinate(jid, source, target), tmp_path)
            summary = to_pfcon(
                pfurl, address, {"action": "status", "meta": {"remote": {"key": jid}}}, tmp_path
            )
    finally:
        pman.close()

    operations = summary["jobOperationSummary"]
    assert {op: operations[op]["status"] for op in ("pushPath", "compute", "pullPath",
                                                    "swiftPut")} == dict.fromkeys(
        ("pushPath", "compute", "pullPath", "swiftPut"), True), operations  # fmt: skip
    assert operations["compute"]["return"]["l_status"] == ["finishedSuccessfully"]
    assert result["d_jobStatusSummary"]["status"] is True

    pulled = tree_digest(target)
    assert set(PFCON_FILES) <= set(pulled)
    assert {k: v for k, v in pulled.items() if k not in PFCON_FILES} == tree_digest(source)

    cube = Connection(local_swift.auth_url, local_swift.user, local_swift.key, auth_version="1")
    stored = {o["name"] for o in cube.get_container(CUBE_CONTAINER, full_listing=True)[1]}
    assert {str(target / rel) for rel in pulled} <= stored  # swiftPut put every pulled file
    key = {o["name"] for o in cube.get_container(jid, full_listing=True)[1]}
    assert {f"input/{rel}" for rel in SOURCE} <= key and {f"output/{rel}" for rel in SOURCE} <= key
