"""Fixtures shared by every test tier. Keep each fixture small; group them by what they start."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from radswift.dev.keystone import KeystoneSwift, default_keystone_venv_dir
from radswift.dev.swift import DEFAULT_CACHE_DIR, LocalSwift, default_venv_dir

# --- the real local Swift (tests marked @pytest.mark.swift) ------------------------------


@pytest.fixture(scope="session")
def swift_venv_dir() -> Path:
    """The Swift venv `radswift dev swift` uses too ($RADSWIFT_CACHE_DIR or ~/.cache/radswift)."""
    return default_venv_dir(Path(os.environ.get("RADSWIFT_CACHE_DIR") or DEFAULT_CACHE_DIR))


@pytest.fixture(scope="session")
def local_swift(
    tmp_path_factory: pytest.TempPathFactory, swift_venv_dir: Path
) -> Iterator[LocalSwift]:
    """One real single-node Swift for the whole session; a failure to start fails the test.

    Credentials: `local_swift.environ()` (ST_AUTH/ST_USER/ST_KEY, admin `test:tester`);
    `local_swift.users[1]` is `test2:tester2`, a user without admin rights.
    """
    swift = LocalSwift.start(tmp_path_factory.mktemp("local-swift"), venv_dir=swift_venv_dir)
    try:
        yield swift
    finally:
        swift.stop()


# --- Keystone v3 with the local Swift behind it (tests marked @pytest.mark.keystone) -------


@pytest.fixture(scope="session")
def keystone_swift(
    tmp_path_factory: pytest.TempPathFactory, swift_venv_dir: Path
) -> Iterator[KeystoneSwift]:
    """A real Keystone (SQLite, waitress) and a second local Swift whose proxy trusts it.

    ~20 s warm, ~60 s cold (Keystone venv in $RADSWIFT_CACHE_DIR or ~/.cache/radswift).
    `.identities`: `user` (domain `radiology`), `legacy_user` (domain Default, same
    project), `app_credential`. Credentials as radswift reads them: `.password_environ()`,
    `.app_credential_environ()`, `.write_password_file(path)`, `.write_app_credential_file(
    path)`. `.admin` makes/deletes credentials and endpoints; `.keystone.restart(settings)`.
    """
    cache = Path(os.environ.get("RADSWIFT_CACHE_DIR") or DEFAULT_CACHE_DIR)
    stack = KeystoneSwift.start(
        tmp_path_factory.mktemp("keystone-swift"),
        keystone_venv=default_keystone_venv_dir(cache),
        swift_venv=swift_venv_dir,
        environ=os.environ,
    )
    try:
        yield stack
    finally:
        stack.stop()


# --- the network --------------------------------------------------------------------------
@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting is refused at once, and nobody
    else can take it while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
