"""`radswift publish get` / `put` against a Swift behind Keystone v3, with every credential
form (the pod's Secret as a ChRIS file in RADSWIFT_CREDENTIALS_FILE, or OS_* variables).

The processor is stood in for by the test writing /share/outgoing; `put --wait none`
publishes at once (waiting strategies are the publisher's own tests' business).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from ks_util import CredentialForm, Run

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


def test_publish_get_then_put_with_each_credential_form(
    radswift: Run, form: CredentialForm, tmp_path: Path
) -> None:
    key = f"ks-pub-{uuid.uuid4().hex[:8]}"
    (tmp_path / "scan").mkdir()
    (tmp_path / "scan" / "IM-0001.dcm").write_bytes(b"DICM" * 3000)
    seeded = radswift(
        "cp", str(tmp_path / "scan"), f"swift://{key}/input/", *form.cli_args(), env=form.env
    )
    assert seeded.returncode == 0, seeded.stderr

    share = tmp_path / "share"
    pod_env = {
        **form.publisher_env(),
        "RADSWIFT_SHARE": str(share),
        "RADSWIFT_KEY": key,
        "RADSWIFT_WAIT": "none",
    }
    got = radswift("publish", "get", env=pod_env)
    assert got.returncode == 0, got.stderr
    assert (share / "incoming" / "IM-0001.dcm").read_bytes() == b"DICM" * 3000

    (share / "outgoing" / "report.txt").write_text(f"processed by {form.name}\n")
    put = radswift("publish", "put", env=pod_env)
    assert put.returncode == 0, put.stderr

    back = tmp_path / "back"
    fetched = radswift("cp", f"swift://{key}/output/", str(back), *form.cli_args(), env=form.env)
    assert fetched.returncode == 0, fetched.stderr
    assert (back / "report.txt").read_text() == f"processed by {form.name}\n"
