"""The local Swift that every storage test runs against: start, credentials, SLO, ports,
proxy restart, clean stop, and the `radswift dev swift` commands."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from swiftclient.client import ClientException, Connection

from radswift.dev.swift import LocalSwift
from radswift.errors import ConfigError

pytestmark = pytest.mark.swift


def connect(swift: LocalSwift, user_index: int = 0) -> Connection:
    user = swift.users[user_index]
    return Connection(authurl=swift.auth_url, user=user.user, key=user.key, retries=0)


def test_start_gives_credentials_that_store_and_return_an_object(local_swift: LocalSwift) -> None:
    env = local_swift.environ()
    assert env == {
        "ST_AUTH": f"http://127.0.0.1:{local_swift.proxy_port}/auth/v1.0",
        "ST_USER": "test:tester",
        "ST_KEY": "testing",
    }
    conn = connect(local_swift)
    conn.put_container("devswift-basic")
    conn.put_object("devswift-basic", "a/b.txt", b"hello swift")
    headers, body = conn.get_object("devswift-basic", "a/b.txt")
    assert body == b"hello swift"
    assert headers["etag"] == hashlib.md5(b"hello swift").hexdigest()


def test_slo_with_small_segments_reads_back_whole(local_swift: LocalSwift) -> None:
    conn = connect(local_swift)
    conn.put_container("devswift-slo")
    conn.put_container("devswift-slo_segments")
    parts = [os.urandom(1024), os.urandom(1024), b"tail"]  # last segment may be tiny
    manifest = []
    for index, part in enumerate(parts):
        etag = conn.put_object("devswift-slo_segments", f"big/{index:08d}", part)
        manifest.append(
            {
                "path": f"/devswift-slo_segments/big/{index:08d}",
                "etag": etag,
                "size_bytes": len(part),
            }
        )
    conn.put_object(
        "devswift-slo", "big", json.dumps(manifest), query_string="multipart-manifest=put"
    )
    headers, body = conn.get_object("devswift-slo", "big")
    assert body == b"".join(parts)
    assert headers["x-static-large-object"] == "True"


def test_second_user_authenticates_but_has_no_admin_rights(local_swift: LocalSwift) -> None:
    assert local_swift.users[1].user == "test2:tester2"
    conn = connect(local_swift, user_index=1)
    with pytest.raises(ClientException) as denied:
        conn.put_container("not-allowed")
    assert denied.value.http_status == 403


def test_attach_finds_the_running_swift(local_swift: LocalSwift) -> None:
    attached = LocalSwift.attach(local_swift.workdir)
    assert attached.environ() == local_swift.environ()
    assert attached.pids == local_swift.pids
    assert attached.is_running()


def test_a_busy_proxy_port_is_refused(tmp_path: Path, swift_venv_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match="busy"):
            LocalSwift.start(tmp_path / "swift", proxy_port=port, venv_dir=swift_venv_dir)
    assert not (tmp_path / "swift" / "state.json").exists()


def test_a_port_held_by_a_swift_server_is_refused(
    local_swift: LocalSwift, tmp_path: Path, swift_venv_dir: Path
) -> None:
    """Swift binds with SO_REUSEPORT: without the check a second proxy would share the port."""
    with pytest.raises(ConfigError, match="busy"):
        LocalSwift.start(
            tmp_path / "swift", proxy_port=local_swift.proxy_port, venv_dir=swift_venv_dir
        )


def test_starting_twice_in_one_workdir_is_refused(
    local_swift: LocalSwift, swift_venv_dir: Path
) -> None:
    with pytest.raises(ConfigError, match="already running"):
        LocalSwift.start(local_swift.workdir, venv_dir=swift_venv_dir)


def test_stop_proxy_breaks_an_upload_and_start_proxy_serves_again_on_the_same_port(
    local_swift: LocalSwift,
) -> None:
    conn = connect(local_swift)
    conn.put_container("devswift-restart")
    port = local_swift.proxy_port
    upload = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    url, token = conn.get_auth()
    upload.putrequest("PUT", f"{url.split(str(port), 1)[1]}/devswift-restart/partial")
    upload.putheader("X-Auth-Token", token)
    upload.putheader("Content-Length", str(4 * 1024 * 1024))
    upload.endheaders()
    upload.send(b"x" * 1024 * 1024)
    try:
        local_swift.stop_proxy()
        with pytest.raises(OSError):
            upload.send(b"x" * 1024 * 1024)
            upload.send(b"x" * 2 * 1024 * 1024)
            upload.getresponse()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        upload.close()
        local_swift.start_proxy()
    assert local_swift.proxy_port == port
    conn = connect(local_swift)
    conn.put_object("devswift-restart", "after", b"ok")
    with pytest.raises(ClientException) as missing:
        conn.head_object("devswift-restart", "partial")
    assert missing.value.http_status == 404


def test_stop_leaves_no_process_alive_not_even_proxy_workers(
    tmp_path: Path, swift_venv_dir: Path
) -> None:
    swift = LocalSwift.start(tmp_path / "swift", venv_dir=swift_venv_dir, proxy_workers=2)
    started = [psutil.Process(pid) for pid in swift.pids.values()]
    family = started + [child for proc in started for child in proc.children(recursive=True)]
    assert {"proxy", "account", "container", "object"} <= set(swift.pids)
    assert len(psutil.Process(swift.pids["proxy"]).children()) == 2
    swift.stop()
    assert not [p.pid for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert swift.pids == {}
    assert not swift.is_running()


def test_a_restart_in_the_same_workdir_keeps_the_data(tmp_path: Path, swift_venv_dir: Path) -> None:
    swift = LocalSwift.start(tmp_path / "swift", venv_dir=swift_venv_dir)
    try:
        connect(swift).put_container("kept")
        connect(swift).put_object("kept", "obj", b"still here")
    finally:
        swift.stop()
    swift = LocalSwift.start(tmp_path / "swift", venv_dir=swift_venv_dir)
    try:
        assert connect(swift).get_object("kept", "obj")[1] == b"still here"
    finally:
        swift.stop()


def radswift(venv_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `radswift` command with the test session's Swift venv."""
    env = {**os.environ, "RADSWIFT_CACHE_DIR": str(venv_dir.parent)}
    return subprocess.run(
        [str(Path(sys.executable).with_name("radswift")), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_start_prints_exports_for_eval_and_stop_ends_it(
    tmp_path: Path, swift_venv_dir: Path
) -> None:
    workdir = tmp_path / "swift"
    started = radswift(swift_venv_dir, "dev", "swift", "start", str(workdir))
    assert started.returncode == 0, started.stderr
    assert "ready at" in started.stderr
    exports = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in started.stdout.splitlines()
    )
    assert set(exports) == {"ST_AUTH", "ST_USER", "ST_KEY"}
    conn = Connection(authurl=exports["ST_AUTH"], user=exports["ST_USER"], key=exports["ST_KEY"])
    conn.head_account()
    assert radswift(swift_venv_dir, "dev", "swift", "status", str(workdir)).returncode == 0
    pids = list(LocalSwift.attach(workdir).pids.values())
    assert radswift(swift_venv_dir, "dev", "swift", "stop", str(workdir)).returncode == 0
    assert not [
        pid
        for pid in pids
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    stopped = radswift(swift_venv_dir, "dev", "swift", "status", str(workdir))
    assert stopped.returncode == 69
    assert "not running" in stopped.stderr
