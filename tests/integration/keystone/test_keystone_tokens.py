"""Token life: a transfer outlives its tokens and completes; a revoked credential fails clearly.

For the long transfer Keystone is restarted with tokens that live SHORT_TOKEN_LIFE_S
seconds, and the upload goes through a relay that caps its rate, so it lasts more than
two token lifetimes on any machine. Swift's authtoken refuses expired tokens, so a
transfer that completes had its token renewed along the way.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from ks_relay import ThrottledRelay
from ks_util import Run, make_form, make_tree, same_tree

from radswift.dev.keystone import KeystoneSwift

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

RATE = 64 * 1024  # bytes/s through the relay
FILES, SIZE = 40, 40_000  # 1.6 MB: at least 24 s at RATE, more than two lifetimes
SLOW_REGION = "RegionSlow"


@pytest.mark.parametrize(
    "form_name", ["env-password-radiology-domains", "file-application-credential"]
)
def test_a_transfer_outlives_several_token_lifetimes_and_completes(
    radswift: Run,
    keystone_swift: KeystoneSwift,
    short_lived_tokens: int,
    endpoints: Callable[..., str],
    tmp_path: Path,
    form_name: str,
) -> None:
    form = make_form(form_name, keystone_swift, tmp_path)
    study = make_tree(tmp_path, files=FILES, size=SIZE)
    key = f"ks-long-{uuid.uuid4().hex[:8]}"
    with ThrottledRelay("127.0.0.1", keystone_swift.swift.proxy_port, RATE) as relay:
        endpoints(f"{relay.url}/v1/AUTH_$(project_id)s", interface="public", region=SLOW_REGION)
        slow = _in_region(form.file, SLOW_REGION) if form.file else None
        env = {**form.env, "OS_REGION_NAME": SLOW_REGION} if form.env else {}
        args = ["--credentials", str(slow)] if slow else []
        started = time.monotonic()
        up = radswift("cp", str(study), f"swift://{key}/input/", "--workers", "2", *args, env=env)
        elapsed = time.monotonic() - started
    assert up.returncode == 0, up.stderr
    assert elapsed > 2 * short_lived_tokens, f"the transfer took only {elapsed:.1f} s"
    back = tmp_path / "back"
    down = radswift("cp", f"swift://{key}/input/", str(back), *form.cli_args(), env=form.env)
    assert down.returncode == 0, down.stderr
    assert same_tree(study, back)


def _in_region(credentials_file: Path, region: str) -> Path:
    """The same ChRIS file, with `osRegionName` in [AUTHORIZATION]."""
    text = credentials_file.read_text()
    slow = credentials_file.with_name(f"slow-{credentials_file.name}")
    slow.write_text(
        text.replace("[AUTHORIZATION]\n", f"[AUTHORIZATION]\nosRegionName = {region}\n")
    )
    return slow


def test_a_revoked_application_credential_fails_with_a_clear_message(
    radswift: Run, keystone_swift: KeystoneSwift, tmp_path: Path
) -> None:
    admin, owner = keystone_swift.admin, keystone_swift.identities.user
    credential = admin.create_application_credential(owner, f"revoked-{uuid.uuid4().hex[:8]}")
    creds = keystone_swift.write_app_credential_file(tmp_path / "app.cfg", credential)
    (tmp_path / "a.txt").write_text("before revocation\n")
    key = f"ks-rev-{uuid.uuid4().hex[:8]}"
    before = radswift(
        "cp", str(tmp_path / "a.txt"), f"swift://{key}/a.txt", "--credentials", str(creds), env={}
    )
    assert before.returncode == 0, before.stderr

    admin.delete_application_credential(credential)
    after = radswift(
        "cp", str(tmp_path / "a.txt"), f"swift://{key}/b.txt", "--credentials", str(creds), env={}
    )

    assert after.returncode == 77, after.stderr  # EX_NOPERM: AuthenticationError
    assert "Traceback" not in after.stderr
    assert credential.id in after.stderr  # says which credential was refused
    assert "rejected" in after.stderr
    assert credential.secret not in after.stderr + after.stdout
