"""The `pfioh` command as the seed starts it, with Swift credentials from a ChRIS-format
file (--swift-credentials) and no Swift variables in its environment."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from pfioh_helpers import free_port, new_key, pfioh_process, tar_bytes, wait_healthy

from radswift.dev.swift import LocalSwift

pytestmark = pytest.mark.swift


def test_seed_command_line_with_a_credentials_file(local_swift: LocalSwift, tmp_path: Path) -> None:
    creds = tmp_path / "swift-credentials.cfg"
    creds.write_text(
        f"[AUTHORIZATION]\nosAuthUrl = {local_swift.auth_url}\n"
        f"username = {local_swift.user}\npassword = {local_swift.key}\n"
    )
    env = {k: "" for k in os.environ if k.startswith(("ST_", "OS_"))}
    args = [
        "--forever",
        "--httpResponse",
        "--swift-storage",
        "--createDirsAsNeeded",
        "--swift-credentials",
        str(creds),
    ]
    with pfioh_process(args, env) as url:
        key = new_key()
        pushed = httpx.post(
            f"{url}/api/v1/keys/{key}/input",
            content=tar_bytes({"a": b"1"}),
            headers={"Content-Type": "application/x-tar"},
        )
        assert pushed.status_code == 201
        assert httpx.get(f"{url}/healthz").json()["store"] == "swift"
        assert httpx.delete(f"{url}/api/v1/keys/{key}").status_code == 200


def test_a_missing_credentials_file_is_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    pfioh = Path(sys.executable).with_name("pfioh")
    done = subprocess.run(
        [
            str(pfioh),
            "--forever",
            "--swift-storage",
            "--swift-credentials",
            str(tmp_path / "absent.cfg"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 78  # EX_CONFIG
    assert "absent.cfg" in done.stderr and "Traceback" not in done.stderr


def test_wrong_swift_credentials_stop_pfioh_at_start_unless_told_to_skip_the_check(
    local_swift: LocalSwift,
) -> None:
    import subprocess
    import sys

    env = {**os.environ, **local_swift.environ(), "ST_KEY": "wrong"}
    pfioh = [
        str(Path(sys.executable).with_name("pfioh")),
        "--ip",
        "127.0.0.1",
        "--port",
        str(free_port()),
    ]
    done = subprocess.run(
        [*pfioh, "--forever", "--swift-storage"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 77  # EX_NOPERM, as `radswift cp` exits
    assert "rejected the credentials" in done.stderr and "ST_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    skipping = ["--forever", "--swift-storage", "--skip-store-check"]
    with pfioh_process(skipping, {"ST_KEY": "wrong", **_st_env(local_swift)}) as url:
        assert httpx.get(f"{url}/healthz").status_code == 200


def _st_env(local_swift: LocalSwift) -> dict[str, str]:
    return {k: v for k, v in local_swift.environ().items() if k != "ST_KEY"}


def test_pfioh_says_where_it_listens_and_warns_once_about_token_auth(tmp_path: Path) -> None:
    import subprocess
    import sys

    port = free_port()
    pfioh = [str(Path(sys.executable).with_name("pfioh")), "--ip", "127.0.0.1"]
    args = [*pfioh, "--port", str(port), "--forever", "--storeBase", str(tmp_path / "store")]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", None)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert f"listening on http://127.0.0.1:{port}" in err
    assert err.lower().count("token auth is off") == 1
