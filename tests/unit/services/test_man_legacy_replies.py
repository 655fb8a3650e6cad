"""The legacy reply echoes what the server received, as pman 2.2 did, but of the request's
headers only the harmless ones pfurl and HTTP send: never a credential of any kind."""

from __future__ import annotations

import json

from fastapi import Request

from radswift.services.man.legacy.replies import envelope

SECRET_HEADERS = {
    "Authorization": "bearer s3cret-1",
    "Proxy-Authorization": "Basic s3cret-2",
    "Cookie": "session=s3cret-3",
    "X-Auth-Token": "s3cret-4",
    "X-Auth-User": "s3cret-5",
    "X-Storage-Token": "s3cret-6",
    "X-Api-Key": "s3cret-7",
    "X-Forwarded-Access-Token": "s3cret-8",
    "X-Amz-Security-Token": "s3cret-9",
    "Private-Token": "s3cret-10",
}
PFURL_HEADERS = {
    "Host": "127.0.0.1:5010",
    "Accept": "*/*",
    "Content-type": "application/json",
    "Mode": "control",
    "Content-Length": "42",
}


def request_with(headers: dict[str, str]) -> Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    scope = {"type": "http", "method": "POST", "path": "/api/v1/cmd", "headers": raw,
             "http_version": "1.1", "query_string": b""}  # fmt: skip
    return Request(scope)


def test_only_the_headers_pfurl_sends_are_echoed_and_no_credential_is() -> None:
    body = b'{"payload": {"action": "hello"}}'
    reply = envelope(request_with({**SECRET_HEADERS, **PFURL_HEADERS}), body, "hello", {})

    text = json.dumps(reply)
    assert "s3cret" not in text
    assert not any(name.lower() in text.lower() for name in SECRET_HEADERS)
    received = reply["receivedByServer"]
    assert received[0] == "POST /api/v1/cmd HTTP/1.1" and received[-1] == body.decode()
    assert sorted(received[1:-2]) == sorted(f"{k.title()}: {v}" for k, v in PFURL_HEADERS.items())
