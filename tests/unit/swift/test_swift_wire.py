"""Names on the wire, SLO manifests and bulk-delete results, connection-error wording."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
import urllib3

from radswift.errors import (
    AuthenticationError,
    Conflict,
    IntegrityError,
    NotFound,
    StorageError,
    StorageUnavailable,
)
from radswift.swift import slo
from radswift.swift.client import SwiftClient
from radswift.swift.http import describe_connection_error, object_path
from radswift.swift.retry import Retry
from radswift.swift.transport import check_status


def test_names_are_utf8_percent_encoded_keeping_slashes_in_object_names() -> None:
    assert object_path("my key") == "/my%20key"
    assert object_path("k", "input/a b/ü?#%.dcm") == "/k/input/a%20b/%C3%BC%3F%23%25.dcm"
    assert object_path("k/x") == "/k%2Fx"


def test_manifest_round_trip_and_slo_etag() -> None:
    segments = [
        slo.Segment(container="k_segments", name="big/000", etag="a" * 32, size=10),
        slo.Segment(container="k_segments", name="big/001", etag="b" * 32, size=3),
    ]
    body = json.loads(slo.encode_manifest(segments))
    assert body[0] == {"path": "/k_segments/big/000", "etag": "a" * 32, "size_bytes": 10}
    stored = json.dumps(
        [
            {"name": "/" + s["path"].lstrip("/"), "hash": s["etag"], "bytes": s["size_bytes"]}
            for s in body
        ]
    ).encode()
    assert slo.decode_manifest(stored) == segments
    expected = hashlib.md5(("a" * 32 + "b" * 32).encode()).hexdigest()
    assert slo.manifest_etag(segments) == expected


def test_nested_manifests_are_refused_not_misverified() -> None:
    with pytest.raises(StorageError, match="nested"):
        slo.decode_manifest(b'[{"name": "/c/o", "hash": "x", "bytes": 1, "sub_slo": true}]')


def test_bulk_delete_results_are_checked() -> None:
    slo.check_bulk_delete(
        b'{"Response Status": "200 OK", "Number Deleted": 3, "Number Not Found": 0, "Errors": []}',
        "DELETE k/o",
    )
    with pytest.raises(NotFound):
        slo.check_bulk_delete(
            b'{"Response Status": "200 OK", "Number Deleted": 0, "Number Not Found": 1,'
            b' "Errors": []}',
            "DELETE k/o",
        )
    with pytest.raises(StorageError, match="409"):
        slo.check_bulk_delete(
            b'{"Response Status": "409 Conflict", "Errors": [["/k_segments/x", "409"]]}', "x"
        )


def test_connection_errors_are_described_by_their_root_cause() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    try:
        try:
            raise refused
        except OSError as exc:
            raise urllib3.exceptions.NewConnectionError(None, "Failed") from exc  # type: ignore[arg-type]
    except urllib3.exceptions.HTTPError as wrapped:
        assert describe_connection_error(wrapped) == "connection refused"
    timeout = urllib3.exceptions.ReadTimeoutError(None, "/x", "Read timed out.")  # type: ignore[arg-type]
    assert describe_connection_error(timeout) == "no response before the read timeout"
    assert describe_connection_error(TimeoutError()) == "connection timed out"


def test_dot_segments_survive_url_normalization() -> None:
    assert object_path("k", "..") == "/k/%2E%2E"
    assert object_path("k", "a/./b/../c.") == "/k/a/%2E/b/%2E%2E/c."


def response(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> urllib3.HTTPResponse:
    return urllib3.HTTPResponse(
        body=body, status=status, headers=headers or {}, preload_content=True
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (404, NotFound),
        (409, Conflict),
        (422, IntegrityError),
        (403, AuthenticationError),
        (400, StorageError),
    ],
)
def test_final_statuses_map_to_errors_carrying_the_transaction_id(
    status: int, expected: type[StorageError]
) -> None:
    with pytest.raises(expected) as caught:
        check_status(response(status, headers={"X-Trans-Id": "tx9"}), "GET k/o")
    assert type(caught.value) is expected
    assert caught.value.status == status and caught.value.trans_id == "tx9"
    assert "GET k/o: HTTP" in caught.value.message and "tx9" in caught.value.message


@pytest.mark.parametrize("status", [500, 503, 429, 498])
def test_transient_statuses_ask_for_a_retry(status: int) -> None:
    with pytest.raises(Retry) as caught:
        check_status(response(status, headers={"Retry-After": "2"}), "PUT k/o")
    assert caught.value.retry_after == 2.0
    assert isinstance(caught.value.cause, StorageUnavailable)


def test_client_errors_quote_swifts_short_reason() -> None:
    body = (
        b"<html><h1>Unprocessable Entity</h1>"
        b"<p>Unable to process the contained instructions</p></html>"
    )
    with pytest.raises(IntegrityError, match=r"422 \(Unprocessable Entity Unable to process"):
        check_status(response(422, body), "PUT k/o")


def test_success_passes_through() -> None:
    ok = response(204)
    assert check_status(ok, "DELETE k/o") is ok


class ScriptedRequests:
    """Stands in for the transport: answers each request with the next scripted response
    and records what was asked."""

    def __init__(self, *responses: urllib3.HTTPResponse) -> None:
        self.responses = list(responses)
        self.asked: list[tuple[str, str]] = []

    def __call__(self, method: str, path: str, **kwargs: object) -> urllib3.HTTPResponse:
        body = kwargs.get("body")
        if callable(body):
            for _ in body():  # send the body, as the transport would
                pass
        self.asked.append((method, path))
        return self.responses.pop(0)


def client_answering(*responses: urllib3.HTTPResponse) -> tuple[SwiftClient, ScriptedRequests]:
    client = SwiftClient(auth=None, http=urllib3.PoolManager())  # type: ignore[arg-type]
    script = ScriptedRequests(*responses)
    client._request = script  # type: ignore[method-assign,assignment]
    return client, script


def test_a_put_superseded_by_a_newer_put_of_the_same_name_succeeds_and_deletes_nothing() -> None:
    # Swift's proxy answers 202 with no ETag when its object servers already hold a newer
    # timestamp (two writers raced); deleting would remove the winner's body.
    client, script = client_answering(response(202, headers={"X-Trans-Id": "tx1"}))
    client.put_object("k", "o", io.BytesIO(b"body"), 4)
    assert script.asked == [("PUT", "/k/o")]


def test_a_put_whose_stored_md5_differs_is_deleted_and_refused() -> None:
    client, script = client_answering(
        response(201, headers={"Etag": '"' + "0" * 32 + '"'}), response(204)
    )
    with pytest.raises(IntegrityError, match="Swift stored MD5 0000"):
        client.put_object("k", "o", io.BytesIO(b"body"), 4)
    assert script.asked == [("PUT", "/k/o"), ("DELETE", "/k/o")]
