"""When Swift cannot be reached, pfioh answers 503 with a JSON reason, and recovers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from pfioh_helpers import new_key, serve, tar_bytes

from radswift.dev.swift import LocalSwift
from radswift.store.swift import SwiftStore
from radswift.swift.credentials import credentials_from_environ
from radswift.swift.retry import RetryPolicy

pytestmark = pytest.mark.swift


@pytest.fixture
def url(local_swift: LocalSwift) -> Iterator[str]:
    creds = credentials_from_environ(local_swift.environ())
    assert creds is not None
    quick = RetryPolicy(max_attempts=2, base_delay=0.05, max_delay=0.1)
    store = SwiftStore.from_credentials(creds, workers=4, retry=quick)
    try:
        with serve(store) as base:
            yield base
    finally:
        store.close()


def test_swift_down_is_503_and_up_again_works(url: str, local_swift: LocalSwift) -> None:
    key = new_key()
    httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        content=tar_bytes({"a": b"1"}),
        headers={"Content-Type": "application/x-tar"},
    ).raise_for_status()
    local_swift.stop_proxy()
    try:
        listing = httpx.get(f"{url}/api/v1/keys/{key}", timeout=60)
        assert listing.status_code == 503
        assert listing.json()["error"] == "StorageUnavailable"
        push = httpx.post(
            f"{url}/api/v1/keys/{key}/input",
            content=tar_bytes({"b": b"2"}),
            headers={"Content-Type": "application/x-tar"},
            timeout=60,
        )
        assert push.status_code == 503
        pull = httpx.get(f"{url}/api/v1/keys/{key}/input", timeout=60)
        assert pull.status_code == 503
    finally:
        local_swift.start_proxy()
    assert httpx.get(f"{url}/api/v1/keys/{key}", timeout=60).json()["count"] == 1
