"""The `pfioh` command as the seed starts it, with Swift credentials from a ChRIS-format
file (--swift-credentials) and no Swift variables in its environment."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from pfioh_helpers import new_key, pfioh_process, tar_bytes

from radswift.devswift import LocalSwift

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
