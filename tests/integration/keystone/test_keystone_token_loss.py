"""A token that stops working in the middle of a transfer is replaced: the transfer completes.

keystoneauth1 renews a token on its own only when it nears expiry; a token can also die
before that (keys rotated, token revoked). Then Swift answers 401 and radswift must
re-authenticate and go on. Here every token is voided at once, mid-transfer, by giving
Keystone new fernet keys (credentials stay valid); the Swift proxy re-validates tokens
every 5 s, so the transfer meets 401s, and must still complete. The proxy's log shows the
401s really happened.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from ks_relay import ThrottledRelay
from ks_util import RADSWIFT, clean_env, make_form, make_tree, same_tree

from radswift.dev.keystone import KeystoneSwift

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

RATE = 64 * 1024
FILES, SIZE = 32, 40_000  # 1.3 MB: at least 19 s at RATE
SLOW_REGION = "RegionSlow"
VOID_AFTER_S = 4.0


@pytest.mark.parametrize(
    "form_name", ["env-password-radiology-domains", "env-application-credential"]
)
def test_tokens_voided_mid_transfer_are_replaced_and_the_transfer_completes(
    keystone_swift: KeystoneSwift,
    endpoints: Callable[..., str],
    tmp_path: Path,
    form_name: str,
) -> None:
    form = make_form(form_name, keystone_swift, tmp_path)
    study = make_tree(tmp_path, files=FILES, size=SIZE)
    key = f"ks-void-{uuid.uuid4().hex[:8]}"
    env = {**clean_env(), **form.env, "OS_REGION_NAME": SLOW_REGION}
    argv = [RADSWIFT, "cp", str(study), f"swift://{key}/input/", "--workers", "2"]
    with ThrottledRelay("127.0.0.1", keystone_swift.swift.proxy_port, RATE) as relay:
        endpoints(f"{relay.url}/v1/AUTH_$(project_id)s", interface="public", region=SLOW_REGION)
        proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        time.sleep(VOID_AFTER_S)
        assert proc.poll() is None, "the transfer ended before its token was voided"
        keystone_swift.keystone.replace_token_keys()
        _, err = proc.communicate(timeout=240)

    assert proc.returncode == 0, err
    refused = [
        line
        for line in (keystone_swift.swift.log_dir / "proxy.log").read_text().splitlines()
        if f"/{key}/" in line and " 401 " in line
    ]
    assert refused, "Swift never refused a token: the renewal path was not exercised"
    back = tmp_path / "back"
    down = subprocess.run(
        [RADSWIFT, "cp", f"swift://{key}/input/", str(back)],
        env={**clean_env(), **form.env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert down.returncode == 0, down.stderr
    assert same_tree(study, back)
