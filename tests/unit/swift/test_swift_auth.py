"""Authenticators: Keystone v3 through keystoneauth1, v1 token lifetime, error translation.

Keystone itself is exercised for real in the `keystone` tier; here a FakeKeystone (a
tiny HTTP server answering `POST /v3/auth/tokens` with a catalog, clearly not
Keystone) checks that we ask keystoneauth1 for the right endpoint and translate its
failures. Tempauth is tested against the real local Swift in tests/integration.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from keystoneauth1 import exceptions as ks

from fakes.keystone import SECRET, FakeKeystone, password_creds
from radswift.errors import AuthenticationError, CredentialsError, StorageUnavailable
from radswift.swift.auth import (
    KeystoneAuthenticator,
    keystone_plugin,
    renew_after,
    translate_keystone_error,
    versioned_auth_url,
)
from radswift.swift.credentials import credentials_from_environ
from radswift.swift.http import Unreachable


@pytest.fixture
def fake_keystone() -> Iterator[FakeKeystone]:
    with FakeKeystone() as server:
        yield server


def test_password_auth_picks_the_object_store_of_the_region_and_interface(
    fake_keystone: FakeKeystone,
) -> None:
    creds = password_creds(fake_keystone.url, OS_REGION_NAME="RegionTwo", OS_INTERFACE="internal")
    endpoint = KeystoneAuthenticator(creds, timeout=5).endpoint()
    assert endpoint.storage_url == "http://swift-regiontwo-internal:8080/v1/AUTH_p"
    assert endpoint.token == "tok-1"
    sent = fake_keystone.bodies[0]["auth"]
    assert sent["identity"]["password"]["user"]["domain"] == {"name": "Default"}
    assert sent["scope"]["project"] == {"name": "radiology", "domain": {"name": "Default"}}


def test_tokens_are_reused_until_invalidated_after_a_401(fake_keystone: FakeKeystone) -> None:
    auth = KeystoneAuthenticator(password_creds(fake_keystone.url), timeout=5)
    first = auth.endpoint()
    assert auth.endpoint().token == first.token
    assert auth.invalidate(first.token)
    assert auth.endpoint().token == "tok-2"
    auth.invalidate(first.token)  # a stale 401 from another thread renews nothing
    assert auth.endpoint().token == "tok-2"
    assert fake_keystone.issued == 2


def test_application_credentials_authenticate(fake_keystone: FakeKeystone) -> None:
    env = {
        "OS_AUTH_URL": fake_keystone.url,
        "OS_APPLICATION_CREDENTIAL_ID": "app-1",
        "OS_APPLICATION_CREDENTIAL_SECRET": SECRET,
    }
    creds = credentials_from_environ(env)
    assert creds is not None
    endpoint = KeystoneAuthenticator(creds, timeout=5).endpoint()
    assert endpoint.storage_url.startswith("http://swift-regionone-public")
    assert fake_keystone.bodies[0]["auth"]["identity"]["application_credential"]["id"] == "app-1"


def test_wrong_password_is_one_clear_error_without_the_password(
    fake_keystone: FakeKeystone,
) -> None:
    creds = password_creds(fake_keystone.url, password="wrong-Secret-123")
    with pytest.raises(AuthenticationError) as caught:
        KeystoneAuthenticator(creds, timeout=5).endpoint()
    message = str(caught.value)
    assert "rejected the credentials of 'alice'" in message
    assert "wrong-Secret-123" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_unknown_region_is_a_configuration_error(fake_keystone: FakeKeystone) -> None:
    creds = password_creds(fake_keystone.url, OS_REGION_NAME="Mars")
    with pytest.raises(CredentialsError, match=r"no object-store endpoint.*'Mars'"):
        KeystoneAuthenticator(creds, timeout=5).endpoint()


def test_unreachable_keystone_is_storage_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    creds = password_creds(f"http://127.0.0.1:{port}/v3")
    with pytest.raises(StorageUnavailable, match=r"cannot reach Keystone.*refused"):
        KeystoneAuthenticator(creds, timeout=5).endpoint()


def test_plugins_get_only_the_fields_that_are_set() -> None:
    plugin = keystone_plugin(password_creds("http://k:5000", OS_USER_DOMAIN_ID="d1"))
    assert plugin.auth_url == "http://k:5000/v3"
    assert plugin.project_name == "radiology" and plugin.project_domain_name == "Default"
    method = plugin.auth_methods[0]
    assert (method.username, method.user_domain_id, method.user_domain_name) == (
        "alice",
        "d1",
        None,
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://k:5000", "http://k:5000/v3"),
        ("http://k:5000/v3/", "http://k:5000/v3"),
        ("http://k:5000/v2.0", "http://k:5000/v3"),
        ("https://k/identity/v3", "https://k/identity/v3"),
    ],
)
def test_auth_urls_are_made_v3(given: str, expected: str) -> None:
    assert versioned_auth_url(given) == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ks.Unauthorized(), AuthenticationError),
        (ks.Forbidden(), AuthenticationError),
        (ks.ServiceUnavailable(), StorageUnavailable),
        (ks.ConnectFailure("refused"), Unreachable),  # a StorageUnavailable
        (ks.ConnectTimeout("slow"), Unreachable),
        (ks.EndpointNotFound(), CredentialsError),
        (ks.DiscoveryFailure(), AuthenticationError),
    ],
)
def test_keystoneauth_errors_become_radswift_errors(error: Exception, expected: type) -> None:
    translated = translate_keystone_error(error, password_creds("http://k/v3"))
    assert type(translated) is expected
    assert SECRET not in str(translated)


def test_v1_tokens_are_renewed_a_margin_before_they_expire() -> None:
    assert renew_after("3600") == 3540
    assert renew_after("60") == 30
    assert renew_after(None) == 86400 - 60
    assert renew_after("garbage") == 86400 - 60
