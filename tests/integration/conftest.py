"""Fixtures of the integration tests that several test modules share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pfioh_helpers import BACKENDS, open_backend
from swiftclient.client import Connection

from radswift.dev.swift import LocalSwift
from radswift.store.base import ObjectStore


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


@pytest.fixture(scope="session")
def pfurl() -> str:
    """The real pfurl 2.3.0.1 executable; it lives in its own venv (it pins old
    dependencies), named by RADSWIFT_PFURL (`./run tests` makes it). Without it the
    legacy tests fail rather than skip: compatibility is not optional."""
    path = os.environ.get("RADSWIFT_PFURL", "")
    if not path or not Path(path).is_file():
        pytest.fail(
            "set RADSWIFT_PFURL to the pfurl 2.3.0.1 executable of a separate venv "
            "(python3 -m venv V && V/bin/pip install pfurl==2.3.0.1)"
        )
    return path


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    """The store a test pfioh serves from, once per backend (local directory, real Swift);
    modules that mean another store define their own `store`."""
    backend = open_backend(request.param, request, tmp_path)
    try:
        yield backend
    finally:
        backend.close()
