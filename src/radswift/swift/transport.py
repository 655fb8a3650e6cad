"""The one request loop under the Swift client: token, send, classify, retry.

Every request runs one attempt per turn of the single retry loop (retry.py): fetch a
token, send, and classify the answer. A 401 makes the attempt re-authenticate once;
connection failures, 5xx, 429 and 498 back off and retry; everything else becomes a
radswift error carrying Swift's X-Trans-Id. Request bodies come from a factory called
for every attempt, so a retried PUT rewinds its file and restarts its MD5.

Tokens travel only in the X-Auth-Token header: no message, log line or repr here
contains one.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterable, Mapping

import urllib3

from radswift.errors import (
    AuthenticationError,
    Conflict,
    IntegrityError,
    NotFound,
    StorageError,
    StorageUnavailable,
)
from radswift.swift.auth import Authenticator, Endpoint
from radswift.swift.http import Unreachable, diagnose, origin_of
from radswift.swift.retry import Retry, RetryPolicy, is_retryable_status, run_with_retries

Headers = Mapping[str, str]
BodyFactory = Callable[[], bytes | Iterable[bytes] | None]


class Transport:
    """Authenticated, retried requests to paths under the storage URL; thread-safe."""

    def __init__(
        self,
        auth: Authenticator,
        http: urllib3.PoolManager,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._auth = auth
        self._http = http
        self._retry = retry or RetryPolicy()
        self._sleep = sleep

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    def describe(self) -> str:
        return self._auth.describe()

    def close(self) -> None:
        self._http.clear()

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        query: str = "",
        headers: Headers | None = None,
        body: BodyFactory | None = None,
        stream: bool = False,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request through the retry loop; return a 2xx response or raise."""
        suffix = f"{path}?{query}" if query else path

        def attempt(_: int) -> urllib3.BaseHTTPResponse:
            return self._attempt(method, suffix, what, headers or {}, body, stream)

        return run_with_retries(self._retry, attempt, what=what, sleep=self._sleep)

    def _attempt(
        self,
        method: str,
        suffix: str,
        what: str,
        headers: Headers,
        body: BodyFactory | None,
        stream: bool,
    ) -> urllib3.BaseHTTPResponse:
        """One attempt, re-authenticating once if Swift answers 401."""
        for reauthenticated in (False, True):
            try:
                endpoint = self._auth.endpoint()
            except StorageUnavailable as exc:
                raise Retry(exc) from None
            resp = self._send(method, endpoint, suffix, headers, body, stream)
            if resp.status != 401:
                return check_status(resp, what)
            _release(resp)
            if reauthenticated or not self._auth.invalidate(endpoint.token):
                break
        raise AuthenticationError(
            f"{what}: Swift refused the token of {self._auth.describe()} (HTTP 401)",
            status=401,
            trans_id=resp.headers.get("X-Trans-Id"),
        )

    def _send(
        self,
        method: str,
        endpoint: Endpoint,
        suffix: str,
        headers: Headers,
        body: BodyFactory | None,
        stream: bool,
    ) -> urllib3.BaseHTTPResponse:
        """One HTTP exchange; a connection failure names the storage host, not the path
        (whose query may hold a signature), and where the storage URL came from."""
        try:
            return self._http.urlopen(
                method,
                endpoint.storage_url + suffix,
                body=body() if body else None,
                headers={**headers, "X-Auth-Token": endpoint.token},
                redirect=False,
                retries=False,
                preload_content=not stream,
            )
        except urllib3.exceptions.HTTPError as exc:
            origin = origin_of(endpoint.storage_url)
            raise Retry(Unreachable("Swift", origin, diagnose(exc), endpoint.hint)) from None


def check_status(resp: urllib3.BaseHTTPResponse, what: str) -> urllib3.BaseHTTPResponse:
    """Return a 2xx response; raise Retry for transient statuses, else the matching error."""
    status = resp.status
    if 200 <= status < 300:
        return resp
    trans_id = resp.headers.get("X-Trans-Id")
    message = f"{what}: HTTP {status}"
    if status in (400, 412, 416, 422):
        message += error_detail(resp)
    _release(resp)
    if is_retryable_status(status):
        error = StorageUnavailable(message, status=status, trans_id=trans_id)
        raise Retry(error, retry_after=_retry_after(resp.headers.get("Retry-After")))
    if status == 403:
        message += " (forbidden: these credentials may not do this)"
    kinds: dict[int, type[StorageError]] = {
        403: AuthenticationError,
        404: NotFound,
        409: Conflict,
        422: IntegrityError,
    }
    raise kinds.get(status, StorageError)(message, status=status, trans_id=trans_id)


def error_detail(resp: urllib3.BaseHTTPResponse) -> str:
    """Swift's short explanation of a client error (its body without HTML), if any."""
    try:
        text = (resp.data or b"")[:500].decode("utf-8", "replace")
    except urllib3.exceptions.HTTPError:
        return ""
    text = " ".join(re.sub(r"<[^>]*>", " ", text).split())
    return f" ({text})" if text else ""


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _release(resp: urllib3.BaseHTTPResponse) -> None:
    """Give the connection back to the pool (reading a small error body if needed)."""
    with contextlib.suppress(urllib3.exceptions.HTTPError):
        resp.drain_conn()
    resp.release_conn()
