"""A Python client of pman's REST API (`radswift job submit|status|logs|list|cancel|rm`).

    client = ManClient("http://127.0.0.1:5010", token="...")
    job, created = client.submit({"jid": "study-42", "image": "...", "entrypoint": [...]})
    client.job("study-42")["status"]
    for chunk in client.follow("study-42", "processor"): ...

Errors come back as radswift errors carrying the server's reason (NotFound, Conflict,
InvalidInput, AuthorizationError); an unreachable pman is StorageUnavailable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from radswift.errors import StorageUnavailable
from radswift.service_clients.replies import error_of, json_reply

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
SERVICE = "pman"


class ManClient:
    """pman over HTTP."""

    def __init__(
        self, base_url: str, *, token: str | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __repr__(self) -> str:  # never shows the token
        return f"ManClient({self.url!r})"

    def submit(self, document: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Submit a job; the job and whether it is new (False: the same one existed)."""
        response = self._send("POST", "/api/v1/jobs", json=dict(document))
        return json_reply(response, SERVICE), response.status_code == 201

    def job(self, jid: str) -> dict[str, Any]:
        return json_reply(self._send("GET", f"/api/v1/jobs/{jid}"), SERVICE)

    def jobs(self, **filters: Any) -> dict[str, Any]:
        """A page of jobs: filters status, auid, since (ISO 8601), limit, offset."""
        params = {k: v for k, v in filters.items() if v is not None}
        return json_reply(self._send("GET", "/api/v1/jobs", params=params), SERVICE)

    def logs(self, jid: str, step: str, *, tail: int | None = None, full: bool = False) -> str:
        params: dict[str, Any] = {"full": "true"} if full else {}
        if tail is not None:
            params["tail"] = tail
        response = self._send("GET", f"/api/v1/jobs/{jid}/logs/{step}", params=params)
        if not response.is_success:
            json_reply(response, SERVICE)
        return response.text

    def follow(self, jid: str, step: str, *, tail: int | None = None) -> Iterator[str]:
        """The step's output as it is written, until the step ends."""
        params: dict[str, Any] = {"follow": "true"}
        if tail is not None:
            params["tail"] = tail
        url = f"/api/v1/jobs/{jid}/logs/{step}"
        try:
            with self._http.stream("GET", url, params=params, timeout=None) as response:
                if not response.is_success:
                    response.read()
                    raise error_of(response, _body(response), SERVICE)
                yield from response.iter_text()
        except httpx.TransportError as exc:
            raise StorageUnavailable(f"cannot reach pman at {self.url}: {exc}") from None

    def cancel(self, jid: str) -> dict[str, Any]:
        return json_reply(self._send("POST", f"/api/v1/jobs/{jid}/cancel"), SERVICE)

    def remove(self, jid: str, *, purge: bool = False) -> None:
        params = {"purge": "true"} if purge else {}
        response = self._send("DELETE", f"/api/v1/jobs/{jid}", params=params)
        if not response.is_success:
            json_reply(response, SERVICE)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise StorageUnavailable(f"cannot reach pman at {self.url}: {exc}") from None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}
