"""open_store: how many attempts a Swift request gets (`retries`, which its caller decides:
cli/ from --retries or RADSWIFT_RETRIES, the publisher from its pod's environment).

Opening a Swift store does not connect yet, so these need no Swift: the auth URL points
at nothing and is never contacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from radswift.errors import InvalidInput
from radswift.store import LocalStore, open_store
from radswift.store.factory import is_swift_url
from radswift.store.swift import SwiftStore
from radswift.swift.retry import DEFAULT_MAX_ATTEMPTS

SWIFT_ENV = {"ST_AUTH": "http://127.0.0.1:9/auth/v1.0", "ST_USER": "t:u", "ST_KEY": "k"}


def attempts_of(environ: Mapping[str, str] = SWIFT_ENV, retries: int | None = None) -> int:
    store = open_store(None, environ=environ, retries=retries)
    try:
        assert isinstance(store, SwiftStore)
        return store.client.retry_policy.max_attempts
    finally:
        store.close()


def test_the_default_is_the_retry_policys() -> None:
    assert attempts_of() == DEFAULT_MAX_ATTEMPTS


def test_retries_sets_the_attempts() -> None:
    assert attempts_of(retries=2) == 2


def test_the_store_reads_no_retries_from_the_environment() -> None:
    assert attempts_of(environ={**SWIFT_ENV, "RADSWIFT_RETRIES": "2"}) == DEFAULT_MAX_ATTEMPTS


def test_a_bad_explicit_count_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="at least 1"):
        open_store(None, environ=SWIFT_ENV, retries=0)


def test_a_local_store_ignores_swift_retries(tmp_path: Path) -> None:
    store = open_store(tmp_path.as_uri(), environ={}, retries=0)
    assert isinstance(store, LocalStore)


@pytest.mark.parametrize(
    ("url", "swift"),
    [
        (None, True),
        ("swift", True),
        ("swift://", True),
        ("file:///srv/x", False),
        ("s3://b", False),
    ],
)
def test_is_swift_url(url: str | None, swift: bool) -> None:
    assert is_swift_url(url) is swift
