"""SwiftStore and SwiftClient against the real local Swift: what only Swift can show.

Pagination across pages, resuming a broken download, segment-wise large objects,
corruption detected end to end, authentication failures, an unreachable store, and
an upload that survives the proxy being restarted under it. The behaviour shared
with every backend is in tests/contract/test_object_store.py.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from radswift.dev.swift import LocalSwift
from radswift.errors import (
    AuthenticationError,
    IntegrityError,
    InvalidInput,
    NotFound,
    StorageUnavailable,
)
from radswift.store.base import SegmentRef
from radswift.store.swift import SwiftStore
from radswift.swift.auth import Authenticator, Endpoint, V1Authenticator
from radswift.swift.body import SMALL_BODY_LIMIT
from radswift.swift.client import SwiftClient
from radswift.swift.credentials import AuthKind, SwiftCredentials, credentials_from_environ
from radswift.swift.http import HttpConfig, make_pool
from radswift.swift.retry import RetryPolicy
from radswift.transfer.download import download_object

pytestmark = pytest.mark.swift

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1)


def creds_of(swift: LocalSwift) -> SwiftCredentials:
    creds = credentials_from_environ(swift.environ())
    assert creds is not None
    return creds


@pytest.fixture
def store(local_swift: LocalSwift) -> Iterator[SwiftStore]:
    backend = SwiftStore.from_credentials(creds_of(local_swift), workers=4)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def container(store: SwiftStore) -> str:
    name = f"swift-{uuid.uuid4().hex[:12]}"
    store.ensure_container(name)
    return name


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def put(store: SwiftStore, container: str, name: str, data: bytes) -> None:
    store.put_object(container, name, io.BytesIO(data), len(data))


# -- listing ----------------------------------------------------------------------------


def test_listing_follows_markers_across_pages(local_swift: LocalSwift, container: str) -> None:
    small_pages = SwiftStore.from_credentials(creds_of(local_swift), workers=2, page_size=3)
    wanted = [f"input/{i:02d}" for i in range(10)]
    for name in [*wanted, "output/x"]:
        put(small_pages, container, name, b"")
    assert [i.name for i in small_pages.list_objects(container, "input/")] == wanted
    after = [i.name for i in small_pages.list_objects(container, "input/", marker="input/05")]
    assert after == wanted[6:]
    pages = list(small_pages.client.list_page(container, prefix="input/", limit=3))
    assert [p["name"] for p in pages] == wanted[:3]


def test_listing_a_missing_container_is_not_found(store: SwiftStore) -> None:
    with pytest.raises(NotFound):
        list(store.list_objects(f"missing-{uuid.uuid4().hex[:8]}"))


# -- large objects -------------------------------------------------------------------------


def test_slo_manifest_gives_the_segments_to_verify_each(store: SwiftStore, container: str) -> None:
    parts = [os.urandom(1 << 20), os.urandom(1 << 20), b"tail"]
    segments = container + "_segments"
    store.ensure_container(segments)
    refs = []
    for index, part in enumerate(parts):
        info = store.put_object(segments, f"big/{index:08d}", io.BytesIO(part), len(part))
        refs.append(SegmentRef(container=segments, name=info.name, etag=info.etag, size=info.size))
    made = store.put_manifest(container, "big", refs)
    listed = next(iter(store.list_objects(container)))
    assert (listed.large, listed.etag, listed.size) == (True, made.etag, sum(map(len, parts)))
    with store.open_object(container, "big") as reader:
        assert reader.segments == refs
        data = b"".join(reader.iter_chunks())
    position = 0
    for ref in refs:  # what a caller does: each segment's MD5 against the manifest
        assert md5(data[position : position + ref.size]) == ref.etag
        position += ref.size
    store.delete_object(container, "big")
    assert list(store.list_objects(segments)) == []


# -- integrity -----------------------------------------------------------------------------


def _data_file_holding(swift: LocalSwift, data: bytes) -> Path:
    """The object server's .data file with exactly these bytes (unique random content)."""
    for path in (swift.workdir / "data").rglob("*.data"):
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return path
    raise AssertionError("no .data file holds the uploaded bytes")


def test_bytes_corrupted_on_disk_are_detected_by_the_download(
    local_swift: LocalSwift, store: SwiftStore, container: str, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    put(store, container, "scan.dcm", data)
    on_disk = _data_file_holding(local_swift, data)
    with on_disk.open("r+b") as handle:  # flip one byte, keep size and xattrs
        handle.seek(1234)
        handle.write(bytes([data[1234] ^ 0xFF]))
    with pytest.raises(IntegrityError, match="differs from ETag"):
        download_object(store, container, "scan.dcm", tmp_path / "scan.dcm")
    assert not (tmp_path / "scan.dcm").exists()


def test_swift_refuses_a_body_whose_md5_differs_from_the_etag_sent(
    store: SwiftStore, container: str
) -> None:
    data = os.urandom(SMALL_BODY_LIMIT + 1)  # streamed: the ETag header is the caller's
    with pytest.raises(IntegrityError, match="422"):
        store.client.put_object(
            container, "lied", io.BytesIO(data), len(data), headers={"ETag": md5(b"other")}
        )
    with pytest.raises(NotFound):
        store.head_object(container, "lied")


def test_large_uploads_are_hashed_while_streaming(store: SwiftStore, container: str) -> None:
    data = os.urandom(SMALL_BODY_LIMIT * 2 + 3)
    info = store.put_object(container, "big.nii", io.BytesIO(data), len(data))
    assert info.etag == md5(data) == store.head_object(container, "big.nii").etag


def test_a_streamed_body_shorter_than_announced_keeps_the_previous_object(
    store: SwiftStore, container: str
) -> None:
    put(store, container, "x", b"precious")
    short = os.urandom(SMALL_BODY_LIMIT + 100)
    with pytest.raises(InvalidInput, match="ended after"):
        store.put_object(container, "x", io.BytesIO(short), len(short) + 1)
    with store.open_object(container, "x") as reader:
        assert b"".join(reader.iter_chunks()) == b"precious"


# -- broken downloads resume ---------------------------------------------------------------


def _restart_proxy_soon(swift: LocalSwift, pause: float) -> threading.Thread:
    def restart() -> None:
        time.sleep(pause)
        swift.start_proxy()

    thread = threading.Thread(target=restart)
    thread.start()
    return thread


def _put_large(store: SwiftStore, container: str, name: str, data: bytes) -> None:
    """`data` as an SLO of two segments."""
    segments = container + "_segments"
    store.ensure_container(segments)
    half = len(data) // 2
    refs = []
    for index, part in enumerate((data[:half], data[half:])):
        info = store.put_object(segments, f"{name}/{index}", io.BytesIO(part), len(part))
        refs.append(SegmentRef(container=segments, name=info.name, etag=info.etag, size=info.size))
    store.put_manifest(container, name, refs)


@pytest.mark.slow
@pytest.mark.parametrize("large", [False, True], ids=["plain", "slo"])
def test_a_dropped_download_resumes_where_it_broke(
    local_swift: LocalSwift,
    store: SwiftStore,
    container: str,
    caplog: pytest.LogCaptureFixture,
    large: bool,
) -> None:
    data = os.urandom(48 << 20)  # far more than socket buffers hold
    (_put_large if large else put)(store, container, "big", data)
    digest = hashlib.md5()
    caplog.set_level(logging.INFO, logger="radswift")
    with store.open_object(container, "big") as reader:
        assert reader.info.large is large
        chunks = reader.iter_chunks()
        digest.update(next(chunks))
        local_swift.stop_proxy()
        restarter = _restart_proxy_soon(local_swift, 1.0)
        try:
            for chunk in chunks:
                digest.update(chunk)
        finally:
            restarter.join()
    assert digest.hexdigest() == md5(data)
    assert any("resuming big at byte" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
@pytest.mark.parametrize("large", [False, True], ids=["plain", "slo"])
def test_a_dropped_download_read_into_a_buffer_resumes_where_it_broke(
    local_swift: LocalSwift,
    store: SwiftStore,
    container: str,
    caplog: pytest.LogCaptureFixture,
    large: bool,
) -> None:
    data = os.urandom(48 << 20)
    (_put_large if large else put)(store, container, "big", data)
    digest = hashlib.md5()
    buffer = memoryview(bytearray(1 << 20))  # one buffer, reused for every read
    caplog.set_level(logging.INFO, logger="radswift")
    with store.open_object(container, "big") as reader:
        got = reader.readinto(buffer)
        digest.update(buffer[:got])
        local_swift.stop_proxy()
        restarter = _restart_proxy_soon(local_swift, 1.0)
        try:
            while got := reader.readinto(buffer):
                digest.update(buffer[:got])
        finally:
            restarter.join()
    assert digest.hexdigest() == md5(data)
    assert any("resuming big at byte" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_an_object_replaced_during_a_resumed_download_is_an_integrity_error(
    local_swift: LocalSwift, store: SwiftStore, container: str
) -> None:
    data = os.urandom(48 << 20)
    put(store, container, "big", data)
    with store.open_object(container, "big") as reader:
        chunks = reader.iter_chunks()
        next(chunks)
        put(store, container, "big", b"a new version")
        local_swift.stop_proxy()
        restarter = _restart_proxy_soon(local_swift, 0.5)
        try:
            with pytest.raises(IntegrityError, match="changed while it was downloaded"):
                for _ in chunks:
                    pass
        finally:
            restarter.join()


# -- uploads survive a proxy restart ---------------------------------------------------------


class _BodyThatStopsTheProxy(io.BytesIO):
    """Stops the Swift proxy once `after` bytes were read, waiting until it is down."""

    def __init__(self, data: bytes, swift: LocalSwift, after: int) -> None:
        super().__init__(data)
        self._swift, self._after, self.stopped = swift, after, False
        self.restarter: threading.Thread | None = None

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self.stopped and self.tell() >= self._after:
            self.stopped = True
            self._swift.stop_proxy()
            self.restarter = _restart_proxy_soon(self._swift, 1.0)
        return super().readinto(buffer)


@pytest.mark.slow
def test_an_upload_interrupted_by_a_proxy_restart_is_retried_to_completion(
    local_swift: LocalSwift, store: SwiftStore, container: str
) -> None:
    data = os.urandom(24 << 20)
    body = _BodyThatStopsTheProxy(data, local_swift, after=8 << 20)
    try:
        info = store.put_object(container, "survivor", body, len(data))
    finally:
        if body.restarter is not None:
            body.restarter.join()
    assert body.stopped
    assert info.etag == md5(data)
    with store.open_object(container, "survivor") as reader:
        assert md5(b"".join(reader.iter_chunks())) == md5(data)


# -- authentication and reachability ---------------------------------------------------------


def test_wrong_password_is_an_authentication_error_without_the_password(
    local_swift: LocalSwift,
) -> None:
    creds = SwiftCredentials(
        kind=AuthKind.V1,
        auth_url=local_swift.auth_url,
        username=local_swift.user,
        password="not-the-Key-42",
    )
    bad = SwiftStore.from_credentials(creds, workers=1, retry=FAST_RETRY)
    with pytest.raises(AuthenticationError) as caught:
        bad.container_exists("anything")
    message = str(caught.value)
    assert "rejected the credentials of user 'test:tester'" in message
    assert "not-the-Key-42" not in message and "not-the-Key-42" not in repr(caught.value)


def test_unreachable_swift_is_storage_unavailable_after_retries(local_swift: LocalSwift) -> None:
    creds = SwiftCredentials(
        kind=AuthKind.V1,
        auth_url="http://127.0.0.1:9/auth/v1.0",  # discard port: nothing listens
        username=local_swift.user,
        password=local_swift.key,
    )
    gone = SwiftStore.from_credentials(creds, workers=1, retry=FAST_RETRY)
    with pytest.raises(
        StorageUnavailable,
        match=r"^cannot reach Swift auth at http://127.0.0.1:9 \(connection"
        r" refused\) after 3 attempts",
    ):
        gone.container_exists("anything")


def test_a_rejected_token_is_renewed_once_and_the_request_succeeds(
    local_swift: LocalSwift, container: str
) -> None:
    class StaleFirst:
        """A test double of our Authenticator: hands out a revoked token first."""

        def __init__(self, real: Authenticator) -> None:
            self.real, self.invalidated = real, 0

        def endpoint(self) -> Endpoint:
            current = self.real.endpoint()
            if self.invalidated:
                return current
            return Endpoint(current.storage_url, "AUTH_tk-revoked")

        def invalidate(self, token: str) -> bool:
            self.invalidated += 1
            return self.real.invalidate(token)

        def describe(self) -> str:
            return self.real.describe()

    pool = make_pool(HttpConfig(pool_size=1))
    auth = StaleFirst(V1Authenticator(creds_of(local_swift), pool))
    client = SwiftClient(auth, pool, retry=FAST_RETRY)
    client.head_container(container)
    assert auth.invalidated == 1


def test_a_token_nobody_can_renew_is_an_authentication_error(local_swift: LocalSwift) -> None:
    creds = SwiftCredentials(
        kind=AuthKind.PREAUTHENTICATED,
        storage_url=f"{local_swift.url}/v1/AUTH_test",
        token="AUTH_tk-forged-0123",
    )
    forged = SwiftStore.from_credentials(creds, workers=1, retry=FAST_RETRY)
    with pytest.raises(AuthenticationError, match="refused the token") as caught:
        forged.container_exists("anything")
    assert "forged-0123" not in str(caught.value)


def test_v1_tokens_are_fetched_once_and_renewed_when_due(local_swift: LocalSwift) -> None:
    now = [1000.0]
    auth = V1Authenticator(creds_of(local_swift), make_pool(HttpConfig()), clock=lambda: now[0])
    first = auth.endpoint()
    assert auth.endpoint() is first
    now[0] += 86400  # past tempauth's token life minus the margin
    assert auth.endpoint() is not first
    assert auth.endpoint().storage_url.endswith("/v1/AUTH_test")
