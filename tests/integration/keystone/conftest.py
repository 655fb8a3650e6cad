"""Fixtures of the Keystone tier: credentials in every form radswift reads, a way to run
radswift as a user does, extra catalog endpoints, short-lived tokens.

The session fixture `keystone_swift` (tests/conftest.py) starts Keystone and the Swift
behind it; everything here builds on it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ks_util import FORMS, RADSWIFT, CredentialForm, Run, clean_env, make_form

from radswift.dev.keystone import KeystoneSwift

SHORT_TOKEN_LIFE_S = 10


@pytest.fixture(params=FORMS)
def form(
    request: pytest.FixtureRequest, keystone_swift: KeystoneSwift, tmp_path: Path
) -> CredentialForm:
    """Each credential form in turn (files and OS_* environment, non-default domains)."""
    return make_form(str(request.param), keystone_swift, tmp_path)


@pytest.fixture
def radswift() -> Run:
    """`radswift ARGS...` as a user runs it, with `env` added to a clean environment."""

    def run(
        *args: str, env: dict[str, str], timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RADSWIFT, *args], env={**clean_env(), **env}, capture_output=True,
            text=True, timeout=timeout, check=False,
        )  # fmt: skip

    return run


@pytest.fixture
def endpoints(keystone_swift: KeystoneSwift) -> Iterator[Callable[..., str]]:
    """`add(url, interface=..., region=...)` registers an object-store endpoint for one test.

    Removed afterwards: a catalog with several regions makes a client that names no
    region pick any of them, which the other tests do not expect."""
    added: list[str] = []

    def add(url: str, *, interface: str, region: str) -> str:
        endpoint_id = keystone_swift.add_object_store_endpoint(
            url, interface=interface, region=region
        )
        added.append(endpoint_id)
        return endpoint_id

    yield add
    for endpoint_id in added:
        keystone_swift.admin.delete_endpoint(endpoint_id)


@pytest.fixture(scope="module")
def short_lived_tokens(keystone_swift: KeystoneSwift) -> Iterator[int]:
    """Keystone restarted with tokens that live SHORT_TOKEN_LIFE_S; restored afterwards."""
    original = keystone_swift.keystone.settings.token_expiration
    keystone_swift.keystone.with_token_expiration(SHORT_TOKEN_LIFE_S)
    try:
        yield SHORT_TOKEN_LIFE_S
    finally:
        keystone_swift.keystone.with_token_expiration(original)
