"""What pfioh's error replies reveal: a reason and a request id, never where its store
is or as whom it logs in (defect 11 of issue 11). The details go to the server log."""

from __future__ import annotations

import dataclasses
import json
import logging
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
def wrong_password_url(local_swift: LocalSwift) -> Iterator[str]:
    """pfioh over the real Swift, configured with a wrong service password."""
    creds = credentials_from_environ(local_swift.environ())
    assert creds is not None
    bad = dataclasses.replace(creds, password="not-the-password")
    quick = RetryPolicy(max_attempts=1, base_delay=0.05, max_delay=0.1)
    store = SwiftStore.from_credentials(bad, workers=2, retry=quick)
    try:
        with serve(store) as base:
            yield base
    finally:
        store.close()


def test_failed_swift_auth_tells_clients_a_reason_and_request_id_only(
    wrong_password_url: str, local_swift: LocalSwift, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    caplog.set_level(logging.WARNING, logger="radswift.services.ioh")
    replies = [
        httpx.get(f"{wrong_password_url}/api/v1/keys/{key}", timeout=30),
        httpx.post(
            f"{wrong_password_url}/api/v1/keys/{key}/input",
            timeout=30,
            content=tar_bytes({"a": b"1"}),
            headers={"Content-Type": "application/x-tar"},
        ),
        httpx.get(
            f"{wrong_password_url}/api/v1/cmd",
            timeout=30,
            params={"action": "pullPath", "meta": json.dumps({"remote": {"key": key}})},
        ),
    ]
    for reply in replies:
        assert reply.status_code >= 500, reply.text
        request_id = reply.headers["X-Request-Id"]
        assert request_id and request_id in reply.text
        for secret in (
            local_swift.auth_url,
            local_swift.user,
            "127.0.0.1",
            local_swift.user.split(":")[-1],
        ):
            assert secret not in reply.text, reply.text
        # the operator finds the whole story in the log, under the same request id
        logged = [r.getMessage() for r in caplog.records if request_id in r.getMessage()]
        assert logged and local_swift.user in logged[0]


def test_every_reply_carries_a_request_id(wrong_password_url: str) -> None:
    ids = {httpx.get(f"{wrong_password_url}/healthz").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3
