"""Fixtures of the integration tests that several test modules share."""

from __future__ import annotations

import pytest
from swiftclient.client import Connection

from radswift.devswift import LocalSwift


@pytest.fixture
def swift(local_swift: LocalSwift) -> Connection:
    return Connection(local_swift.auth_url, local_swift.user, local_swift.key, auth_version="1")


@pytest.fixture
def credentials(local_swift: LocalSwift) -> bytes:
    """The ChRIS-style credentials file the Secret would hold."""
    return (
        "[AUTHORIZATION]\n"
        f"osAuthUrl = {local_swift.auth_url}\n"
        f"username = {local_swift.user}\n"
        f"password = {local_swift.key}\n"
    ).encode()
