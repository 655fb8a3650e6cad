"""The unmodified pfurl 2.3 client driving our pfioh: hello, pushPath, pullPath, with and
without --httpResponse, over the local store and the real local Swift; plus the other
legacy actions, confinement of remote paths, safe parsing and token auth.

pfurl lives in its own venv (it pins old dependencies): RADSWIFT_PFURL must name its
executable, e.g. `python3 -m venv V && V/bin/pip install pfurl==2.3.0.1`, then
RADSWIFT_PFURL=V/bin/pfurl. Without it these tests fail rather than skip.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pfioh_helpers import (
    listing,
    new_key,
    pfioh_process,
    run_pfurl,
    transfer_msg,
    tree_digest,
)

from trees import make_tree

TREE = {
    "series/img001.dcm": os.urandom(300_000),
    "series/img002.dcm": os.urandom(70_000),
    "report.txt": b"findings: none\n",
}


SERVERS = [
    pytest.param(("local", False), id="local"),
    pytest.param(("local", True), id="local-httpResponse"),
    pytest.param(("swift", True), id="swift-httpResponse", marks=pytest.mark.swift),
    pytest.param(("swift", False), id="swift", marks=pytest.mark.swift),
]


@pytest.fixture(scope="module", params=SERVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    storage, http_response = request.param
    args = ["--forever", "--createDirsAsNeeded"] + (["--httpResponse"] if http_response else [])
    env: dict[str, str] = {}
    if storage == "swift":
        args.append("--swift-storage")
        env = request.getfixturevalue("local_swift").environ()
    else:
        args += ["--storeBase", str(tmp_path_factory.mktemp("pfioh") / "store")]
    with pfioh_process(args, env) as url:
        yield url


def test_pfurl_hello(pfurl: str, server: str, tmp_path: Path) -> None:
    out = run_pfurl(
        pfurl,
        server,
        {"action": "hello", "meta": {"askAbout": "sysinfo", "echoBack": "Hi there!"}},
        tmp_path,
        "--raw",
    )
    reply = json.loads(out)
    assert reply["stdout"]["status"] is True
    assert reply["stdout"]["d_ret"]["name"] == "pfioh"
    assert reply["stdout"]["d_ret"]["sysinfo"]["cpucount"] >= 1


def test_pfurl_push_then_pull_round_trips_a_tree(pfurl: str, server: str, tmp_path: Path) -> None:
    key = new_key()
    source = make_tree(tmp_path / "in", TREE)
    out = run_pfurl(pfurl, server, transfer_msg("pushPath", key, source), tmp_path)
    assert json.loads(out)["stdout"]["compress"]["remoteServer"]["status"] is True
    assert sorted(listing(server, key) or {}) == sorted(f"input/{n}" for n in TREE)
    # the job's results appear in output/ (here: uploaded over REST), pfurl pulls them
    for name, data in TREE.items():
        httpx.put(f"{server}/api/v1/keys/{key}/output/{name}", content=data).raise_for_status()
    dest = tmp_path / "out"
    out = run_pfurl(pfurl, server, transfer_msg("pullPath", key, dest), tmp_path)
    assert json.loads(out)["stdout"]["status"] is True
    assert tree_digest(dest) == tree_digest(source)


def test_a_second_legacy_push_replaces_the_input(pfurl: str, server: str, tmp_path: Path) -> None:
    key = new_key()
    run_pfurl(
        pfurl, server, transfer_msg("pushPath", key, make_tree(tmp_path / "a", TREE)), tmp_path
    )
    second = make_tree(tmp_path / "b", {"only.txt": b"second", "report.txt": b"v2"})
    run_pfurl(pfurl, server, transfer_msg("pushPath", key, second), tmp_path)
    assert listing(server, key) == {
        "input/only.txt": hashlib.md5(b"second").hexdigest(),
        "input/report.txt": hashlib.md5(b"v2").hexdigest(),
    }


def control(url: str, msg: dict[str, object], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/cmd", json={"payload": msg}, headers={"Mode": "control", **headers}
    )


def test_ls_and_rmtree_are_confined_to_the_key(server: str, tmp_path: Path) -> None:
    key = new_key()
    httpx.put(f"{server}/api/v1/keys/{key}/input/a/b.txt", content=b"b").raise_for_status()
    ls = control(server, {"action": "ls", "meta": {"key": key}}).json()
    assert ls["status"] is True and ls["d_ls"]["input"]["type"] == "dir"
    escape = control(server, {"action": "ls", "meta": {"key": key, "subdir": "../"}})
    assert escape.status_code == 400 and escape.json()["status"] is False
    for hostile in ("/", "/..", "../..", "a/../.."):
        reply = control(server, {"action": "rmtree", "meta": {"path": hostile}})
        assert reply.status_code == 400, hostile
    # a path is reduced to one key name: `/storeBase/key-K` means key K, nothing else
    rm = control(server, {"action": "rmtree", "meta": {"path": f"/tmp/../x/key-{key}/"}})
    assert rm.json()["status"] is True
    assert listing(server, key) is None


def test_get_meta_is_parsed_as_a_literal_never_evaluated(server: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path('{marker}').touch()"
    query = urllib.parse.urlencode({"action": "pullPath", "meta": payload})
    reply = httpx.get(f"{server}/api/v1/cmd?{query}")
    assert reply.status_code == 400 and reply.json()["status"] is False
    assert not marker.exists()
    # the literal pfurl really sends (a Python dict repr, True/False) is understood
    meta = {"remote": {"key": new_key()}, "transport": {"checkRemote": True}}
    query = urllib.parse.urlencode({"action": "pullPath", "meta": meta})
    check = httpx.get(f"{server}/api/v1/cmd?{query}").json()
    assert check["status"] is False and check["isdir"] is False


def test_pfurl_with_token_auth(pfurl: str, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.cfg"
    tokens.write_text("[AUTH TOKENS]\nchris = s3cret-one\nother = s3cret-two\n")
    args = [
        "--forever",
        "--storeBase",
        str(tmp_path / "store"),
        "--enableTokenAuth",
        "--tokenPath",
        str(tokens),
    ]
    with pfioh_process(args) as url:
        hello = {"action": "hello", "meta": {"askAbout": "timestamp"}}
        ok = json.loads(
            run_pfurl(pfurl, url, hello, tmp_path, "--raw", "--authToken", "s3cret-two")
        )
        assert ok["stdout"]["status"] is True
        wrong = control(url, hello, Authorization="bearer nope")
        assert wrong.status_code == 401
        assert control(url, hello).status_code == 400
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_without_forever_pfioh_serves_one_pfurl_transfer_and_exits(
    pfurl: str, tmp_path: Path
) -> None:
    from pfioh_helpers import free_port, wait_healthy

    port = free_port()
    pfioh = Path(sys.executable).with_name("pfioh")
    proc = subprocess.Popen(
        [str(pfioh), "--port", str(port), "--storeBase", str(tmp_path / "store")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)  # /healthz does not count, nor does pfurl's checkRemote probe
        source = make_tree(tmp_path / "in", {"a.txt": b"a"})
        out = run_pfurl(pfurl, url, transfer_msg("pushPath", "once", source), tmp_path)
        assert json.loads(out)["stdout"]["compress"]["remoteServer"]["status"] is True
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def legacy_form_push(url: str, key: str, zip_body: bytes) -> httpx.Response:
    msg = json.dumps(
        {
            "action": "pushPath",
            "meta": {
                "remote": {"key": key},
                "local": {"path": "/data/in"},
                "transport": {
                    "mechanism": "compress",
                    "compress": {"archive": "zip", "unpack": True},
                },
            },
        }
    )
    return httpx.post(
        f"{url}/api/v1/cmd",
        headers={"Mode": "file"},
        data={"d_msg": msg, "filename": "x.zip"},
        files={"local": ("x.zip", zip_body, "application/zip")},
        timeout=60,
    )


def test_a_legacy_push_is_unpacked_with_the_same_safety(server: str) -> None:
    from pfioh_helpers import zip_bytes

    key = new_key()
    ok = legacy_form_push(server, key, zip_bytes({"a/b.dcm": b"1", "c.txt": b"2"}))
    assert ok.json()["status"] is True
    before = listing(server, key)
    assert sorted(before or {}) == ["input/a/b.dcm", "input/c.txt"]
    slip = legacy_form_push(server, key, zip_bytes({"ok.txt": b"1", "../../evil": b"x"}))
    assert slip.status_code == 400 and slip.json()["status"] is False
    assert listing(server, key) == before
    fresh = new_key()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros", bytes(20 * 1024 * 1024))
    refused = legacy_form_push(server, fresh, bomb.getvalue())
    assert refused.status_code == 413 and refused.json()["status"] is False
    assert listing(server, fresh) is None


def test_hello_variants_and_read_only_internalctl(server: str) -> None:
    echo = control(
        server, {"action": "hello", "meta": {"askAbout": "echoBack", "echoBack": "Hi there!"}}
    ).json()
    assert echo["stdout"]["d_ret"]["echoBack"]["msg"] == "Hi there!"
    stamp = control(server, {"action": "hello", "meta": {"askAbout": "timestamp"}}).json()
    assert len(stamp["stdout"]["d_ret"]["timestamp"]["now"]) >= 14
    get = control(server, {"action": "internalctl", "meta": {"var": "name", "get": "value"}})
    assert get.json() == {"status": True, "d_ret": {"name": "pfioh"}}
    setting = control(server, {"action": "internalctl", "meta": {"var": "storeBase", "set": "/"}})
    assert setting.status_code == 400 and setting.json()["status"] is False
    unknown = control(server, {"action": "run", "meta": {}})
    assert unknown.status_code == 400 and unknown.json()["error"] == "unknown_action"


def test_pfurl_push_of_an_empty_directory_creates_the_key(
    pfurl: str, server: str, tmp_path: Path
) -> None:
    key = new_key()
    empty = tmp_path / "empty"
    empty.mkdir()
    out = run_pfurl(pfurl, server, transfer_msg("pushPath", key, empty), tmp_path)
    assert json.loads(out)["stdout"]["compress"]["remoteServer"]["status"] is True
    assert listing(server, key) == {}
