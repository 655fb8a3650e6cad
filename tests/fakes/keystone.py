"""FakeKeystone: a FAKE Keystone v3 token service on 127.0.0.1, for unit tests of auth.

Not Keystone (the `keystone` test tier runs the real one). A POST of a password or
application-credential request is answered with a token (header X-Subject-Token
`{token_prefix}-N`, N counting the tokens issued) whose catalog lists `endpoints` as the
object-store service, or with 401 when the password or secret is not `secret`. Every
request body is kept in `bodies`, for assertions on what the client sent.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from radswift.swift.credentials import SwiftCredentials, credentials_from_environ

SECRET = "pa55-w0rd"
Endpoint = dict[str, str]


def endpoint(region: str, interface: str, url: str) -> Endpoint:
    return {"region": region, "region_id": region, "interface": interface, "url": url}


def regional_endpoints() -> list[Endpoint]:
    """Swift in RegionOne and RegionTwo, public and internal: http://swift-REGION-INTERFACE."""
    return [
        endpoint(region, interface, f"http://swift-{region.lower()}-{interface}:8080/v1/AUTH_p")
        for region in ("RegionOne", "RegionTwo")
        for interface in ("public", "internal")
    ]


def password_creds(url: str, password: str = SECRET, **extra: str) -> SwiftCredentials:
    """alice's password credentials for project radiology at `url`; `extra` OS_* settings."""
    env = {
        "OS_AUTH_URL": url,
        "OS_USERNAME": "alice",
        "OS_PASSWORD": password,
        "OS_PROJECT_NAME": "radiology",
        **extra,
    }
    creds = credentials_from_environ(env)
    assert creds is not None
    return creds


class FakeKeystone(ThreadingHTTPServer):
    """The fake token service; use as a context manager. `url` is its v3 auth URL."""

    def __init__(
        self,
        *,
        secret: str = SECRET,
        endpoints: list[Endpoint] | None = None,
        token_prefix: str = "tok",
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret = secret
        self.endpoints = regional_endpoints() if endpoints is None else endpoints
        self.token_prefix = token_prefix
        self.issued = 0
        self.bodies: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v3"

    def __enter__(self) -> FakeKeystone:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def _timestamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


class _Handler(BaseHTTPRequestHandler):
    server: FakeKeystone

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        identity = body["auth"]["identity"]
        method = identity["methods"][0]
        given = (
            identity["password"]["user"]["password"]
            if method == "password"
            else identity["application_credential"]["secret"]
        )
        if given != self.server.secret:
            message = "The request you have made requires authentication."
            self._reply(401, {"error": {"code": 401, "message": message}})
            return
        self.server.issued += 1
        domain = {"id": "default", "name": "Default"}
        token = {
            "methods": [method],
            "expires_at": _timestamp(datetime.now(UTC) + timedelta(hours=1)),
            "issued_at": _timestamp(datetime.now(UTC)),
            "user": {"id": "u1", "name": "alice", "domain": domain},
            "project": {"id": "p1", "name": "radiology", "domain": domain},
            "catalog": [
                {"type": "object-store", "name": "swift", "endpoints": self.server.endpoints}
            ],
        }
        token_id = f"{self.server.token_prefix}-{self.server.issued}"
        self._reply(201, {"token": token}, token_id=token_id)

    def _reply(self, status: int, body: dict[str, Any], token_id: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if token_id:
            self.send_header("X-Subject-Token", token_id)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass
