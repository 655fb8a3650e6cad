"""`radswift cp` against a Swift behind Keystone v3, with every credential form.

The forms (conftest.FORMS): the ChRIS password file for a user of the Default domain in
a project of the `radiology` domain (the legacy format names only the project's
domain), the same file with `osUserDomain` for a user of `radiology`, the ChRIS
application-credential file, and the OS_* environment for both kinds.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from ks_util import CredentialForm, Run, make_form, make_tree, same_tree

from radswift.dev.keystone import KeystoneSwift

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


def test_cp_round_trip_with_each_credential_form(
    radswift: Run, form: CredentialForm, tmp_path: Path
) -> None:
    study = make_tree(tmp_path, files=6, size=40_000)
    (study / "brain.nii").write_bytes(bytes(range(256)) * 1200)  # segmented: 300 KB > 64 KiB
    key = f"ks-cp-{uuid.uuid4().hex[:8]}"
    up = radswift(
        "cp", str(study), f"swift://{key}/input/", "--segment-size", "64KiB", "--json",
        *form.cli_args(), env=form.env,
    )  # fmt: skip
    assert up.returncode == 0, up.stderr
    assert json.loads(up.stdout)["files"] == 7
    back = tmp_path / "back"
    down = radswift("cp", f"swift://{key}/input/", str(back), *form.cli_args(), env=form.env)
    assert down.returncode == 0, down.stderr
    assert same_tree(study, back)


def test_objects_land_in_the_keystone_projects_account(
    radswift: Run, keystone_swift: KeystoneSwift, tmp_path: Path
) -> None:
    """What one identity uploads, the others of the same project see: one account."""
    key = f"ks-acct-{uuid.uuid4().hex[:8]}"
    (tmp_path / "a.txt").write_text("one account\n")
    legacy = make_form("file-password-default-domain-user", keystone_swift, tmp_path)
    up = radswift("cp", str(tmp_path / "a.txt"), f"swift://{key}/a.txt", *legacy.cli_args(), env={})
    assert up.returncode == 0, up.stderr
    app = make_form("env-application-credential", keystone_swift, tmp_path)
    listing = radswift("ls", f"swift://{key}/", env=app.env)
    assert listing.returncode == 0, listing.stderr
    assert "a.txt" in listing.stdout
