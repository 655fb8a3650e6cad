"""The Keystone tier itself: a real Keystone v3 issues tokens that the local Swift honours.

Spoken with keystoneauth1 directly, so these hold whatever radswift does on top:
password auth scoped to a project of a domain other than `Default`, application
credentials, and a Swift proxy that accepts the tokens (authtoken + keystoneauth) and
refuses everything else.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from keystoneauth1 import exceptions as ks
from keystoneauth1 import session
from keystoneauth1.identity import v3

from radswift.dev.keystone import KeystoneSwift

pytestmark = [pytest.mark.keystone, pytest.mark.slow]


def _password_session(stack: KeystoneSwift, password: str | None = None) -> Any:
    user = stack.identities.user
    return session.Session(
        auth=v3.Password(
            auth_url=stack.keystone.auth_url,
            username=user.name,
            password=password if password is not None else user.password,
            user_domain_name=user.domain_name,
            project_name=user.project_name,
            project_domain_name=user.project_domain_name,
        )
    )


def _app_credential_session(stack: KeystoneSwift, secret: str | None = None) -> Any:
    credential = stack.identities.app_credential
    return session.Session(
        auth=v3.ApplicationCredential(
            auth_url=stack.keystone.auth_url,
            application_credential_id=credential.id,
            application_credential_secret=secret if secret is not None else credential.secret,
        )
    )


def _put_and_list(sess: Any, storage_url: str) -> list[str]:
    """Create a container through the Swift proxy with the session's token, list the account."""
    container = f"ks-{uuid.uuid4().hex[:8]}"
    created = sess.put(f"{storage_url}/{container}", authenticated=True, raise_exc=False)
    assert created.status_code in (201, 202), created.text
    listing = sess.get(storage_url, authenticated=True, raise_exc=False)
    assert listing.status_code == 200, listing.text
    return list(listing.text.split())


def test_password_scoped_to_a_project_of_a_non_default_domain(
    keystone_swift: KeystoneSwift,
) -> None:
    sess = _password_session(keystone_swift)
    access = sess.auth.get_access(sess)
    assert access.project_id == keystone_swift.identities.user.project_id
    assert access.project_domain_name == "radiology"
    assert access.user_domain_name == "radiology"
    assert "member" in access.role_names


def test_the_catalog_points_at_the_local_swift_with_the_project_account(
    keystone_swift: KeystoneSwift,
) -> None:
    sess = _password_session(keystone_swift)
    url = sess.get_endpoint(service_type="object-store", interface="public")
    assert url == keystone_swift.storage_url()


def test_swift_accepts_a_password_token(keystone_swift: KeystoneSwift) -> None:
    sess = _password_session(keystone_swift)
    assert _put_and_list(sess, keystone_swift.storage_url())


def test_swift_accepts_an_application_credential_token(keystone_swift: KeystoneSwift) -> None:
    sess = _app_credential_session(keystone_swift)
    access = sess.auth.get_access(sess)
    assert access.project_id == keystone_swift.identities.user.project_id
    assert _put_and_list(sess, keystone_swift.storage_url())


def test_the_legacy_user_of_the_default_domain_reaches_the_same_project(
    keystone_swift: KeystoneSwift,
) -> None:
    legacy = keystone_swift.identities.legacy_user
    sess = session.Session(
        auth=v3.Password(
            auth_url=keystone_swift.keystone.auth_url,
            username=legacy.name,
            password=legacy.password,
            user_domain_name="Default",
            project_name=legacy.project_name,
            project_domain_name="radiology",
        )
    )
    assert sess.get_endpoint(service_type="object-store") == keystone_swift.storage_url()
    assert _put_and_list(sess, keystone_swift.storage_url())


def test_keystone_rejects_a_wrong_password_and_a_wrong_secret(
    keystone_swift: KeystoneSwift,
) -> None:
    with pytest.raises(ks.Unauthorized):
        _password_session(keystone_swift, password="not-the-password").get_token()
    with pytest.raises(ks.Unauthorized):
        _app_credential_session(keystone_swift, secret="not-the-secret").get_token()


def test_swift_refuses_requests_without_a_valid_token(keystone_swift: KeystoneSwift) -> None:
    plain = session.Session()
    url = keystone_swift.storage_url()
    assert plain.get(url, raise_exc=False).status_code == 401
    forged = plain.get(url, headers={"X-Auth-Token": "gAAAAAforged"}, raise_exc=False)
    assert forged.status_code == 401


def test_a_token_of_another_project_cannot_reach_this_account(
    keystone_swift: KeystoneSwift,
) -> None:
    service = keystone_swift.identities.service_user
    sess = session.Session(
        auth=v3.Password(
            auth_url=keystone_swift.keystone.auth_url,
            username=service.name,
            password=service.password,
            user_domain_name=service.domain_name,
            project_name=service.project_name,
            project_domain_name=service.project_domain_name,
        )
    )
    token = sess.get_token()
    other_account = session.Session().get(
        keystone_swift.storage_url(), headers={"X-Auth-Token": token}, raise_exc=False
    )
    assert other_account.status_code == 403
