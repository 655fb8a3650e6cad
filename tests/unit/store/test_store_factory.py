"""open_store: how many attempts a Swift request gets (RADSWIFT_RETRIES or `retries`).

Opening a Swift store does not connect yet, so these need no Swift: the auth URL points
at nothing and is never contacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from radswift.errors import InvalidInput
from radswift.store import LocalStore, open_store
from radswift.store.factory import retries_from_environ
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


def test_radswift_retries_sets_the_attempts() -> None:
    assert attempts_of(environ={**SWIFT_ENV, "RADSWIFT_RETRIES": " 2 "}) == 2


def test_an_explicit_count_wins_over_the_environment() -> None:
    assert attempts_of(environ={**SWIFT_ENV, "RADSWIFT_RETRIES": "9"}, retries=1) == 1


@pytest.mark.parametrize("value", ["0", "-3", "abc", "1.5"])
def test_a_bad_radswift_retries_is_invalid_input(value: str) -> None:
    with pytest.raises(InvalidInput, match=rf"RADSWIFT_RETRIES must be .* at least 1 .*'{value}'"):
        open_store(None, environ={**SWIFT_ENV, "RADSWIFT_RETRIES": value})


def test_a_bad_explicit_count_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="at least 1"):
        open_store(None, environ=SWIFT_ENV, retries=0)


def test_an_empty_radswift_retries_means_unset() -> None:
    assert retries_from_environ({"RADSWIFT_RETRIES": ""}) is None
    assert retries_from_environ({}) is None


def test_a_local_store_ignores_swift_retries(tmp_path: Path) -> None:
    store = open_store(tmp_path.as_uri(), environ={"RADSWIFT_RETRIES": "0"})
    assert isinstance(store, LocalStore)
