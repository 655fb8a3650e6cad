"""A thin, thread-safe Swift client: one method per Swift operation.

Requests go through `Transport` (transport.py: tokens, the one retry loop, status
mapping). This module knows Swift's URLs, queries and bodies: JSON listings paged by
marker, streamed GETs, PUTs verified by MD5, SLO manifests and their deletion.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlencode

import urllib3

from radswift.errors import IntegrityError, InvalidInput, NotFound, StorageError
from radswift.objectinfo import ObjectInfo
from radswift.swift import slo
from radswift.swift.auth import Authenticator, make_authenticator
from radswift.swift.body import LocalBodyError, UploadBody
from radswift.swift.credentials import SwiftCredentials
from radswift.swift.http import CHUNK_SIZE, HttpConfig, make_pool, object_path
from radswift.swift.objects import (
    etag_of,
    last_modified_of,
    object_from_headers,
    object_from_listing,
    object_headers,
)
from radswift.swift.retry import RetryPolicy
from radswift.swift.transport import Headers, Transport, check_status

log = logging.getLogger(__name__)

LISTING_LIMIT = 10_000
"""Swift's default maximum listing page."""

SUPERSEDED = 202
"""A PUT's status when a newer PUT of the same object had already landed."""


@dataclass(frozen=True, slots=True)
class PutResult:
    etag: str
    headers: Headers

    @property
    def last_modified(self) -> str | None:
        return last_modified_of(self.headers)


class SwiftClient:
    """Swift's REST API, one method per operation; safe to share between threads."""

    def __init__(
        self,
        auth: Authenticator,
        http: urllib3.PoolManager,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._transport = Transport(auth, http, retry=retry, sleep=sleep)
        self._request = self._transport.request

    @classmethod
    def from_credentials(
        cls,
        creds: SwiftCredentials,
        *,
        workers: int = 16,
        retry: RetryPolicy | None = None,
        http: HttpConfig | None = None,
    ) -> SwiftClient:
        """A client with a connection pool sized for `workers` threads."""
        config = http or HttpConfig(pool_size=workers)
        pool = make_pool(config)
        auth = make_authenticator(creds, pool, timeout=config.connect_timeout)
        return cls(auth, pool, retry=retry)

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._transport.retry_policy

    def describe(self) -> str:
        return self._transport.describe()

    def close(self) -> None:
        self._transport.close()

    # -- account and containers -------------------------------------------------------

    def head_account(self) -> Headers:
        return self._request("HEAD", "", what="HEAD account").headers

    def put_container(self, container: str, headers: Headers | None = None) -> None:
        self._request("PUT", object_path(container), headers=headers, what=f"PUT {container}")

    def head_container(self, container: str) -> Headers:
        return self._request("HEAD", object_path(container), what=f"HEAD {container}").headers

    def container_exists(self, container: str) -> bool:
        try:
            self.head_container(container)
        except NotFound:
            return False
        return True

    def delete_container(self, container: str) -> None:
        self._request("DELETE", object_path(container), what=f"DELETE {container}")

    def list_page(
        self,
        container: str,
        *,
        prefix: str = "",
        marker: str = "",
        delimiter: str = "",
        limit: int = LISTING_LIMIT,
    ) -> list[dict[str, Any]]:
        """One page of the JSON listing (at most `limit` entries after `marker`)."""
        query = {"format": "json", "limit": str(limit)}
        for key, value in (("prefix", prefix), ("marker", marker), ("delimiter", delimiter)):
            if value:
                query[key] = value
        resp = self._request(
            "GET", object_path(container), query=urlencode(query), what=f"GET {container}"
        )
        try:
            page = json.loads(resp.data) if resp.data else []
        except ValueError:
            page = None
        if not isinstance(page, list):
            raise StorageError(f"listing of {container} is not a JSON list")
        return page

    def iter_listing(
        self,
        container: str,
        *,
        prefix: str = "",
        marker: str = "",
        delimiter: str = "",
        page_size: int = LISTING_LIMIT,
    ) -> Iterator[dict[str, Any]]:
        """Every listing entry after `marker`, page after page, in Swift's (UTF-8) order."""
        while True:
            page = self.list_page(
                container, prefix=prefix, marker=marker, delimiter=delimiter, limit=page_size
            )
            yield from page
            if len(page) < page_size:
                return
            last = page[-1]
            marker = str(last.get("name") or last.get("subdir"))

    def iter_objects(
        self, container: str, *, prefix: str = "", marker: str = "", page_size: int = LISTING_LIMIT
    ) -> Iterator[ObjectInfo]:
        """Every object after `marker` under `prefix`, parsed from the JSON listing."""
        entries = self.iter_listing(container, prefix=prefix, marker=marker, page_size=page_size)
        for entry in entries:
            if "name" in entry:
                yield object_from_listing(entry)

    # -- objects ---------------------------------------------------------------------

    def head_object(self, container: str, name: str) -> Headers:
        path = object_path(container, name)
        return self._request("HEAD", path, what=f"HEAD {container}/{name}").headers

    def stat_object(self, container: str, name: str) -> ObjectInfo:
        """HEAD, parsed."""
        return object_from_headers(name, self.head_object(container, name))

    def get_object(
        self,
        container: str,
        name: str,
        *,
        offset: int = 0,
        end: int | None = None,
        if_match: str | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """Start streaming an object (from `offset`, up to byte `end` excluded); read it
        with `.read(CHUNK_SIZE)` and release it with `.release_conn()`. Errors while
        reading are the caller's."""
        headers = {}
        if end is not None:
            headers["Range"] = f"bytes={offset}-{max(end, offset + 1) - 1}"
        elif offset:
            headers["Range"] = f"bytes={offset}-"
        if if_match:
            headers["If-Match"] = f'"{if_match}"'
        path = object_path(container, name)
        return self._request(
            "GET", path, headers=headers, stream=True, what=f"GET {container}/{name}"
        )

    def put_object(
        self,
        container: str,
        name: str,
        body: BinaryIO,
        size: int,
        *,
        headers: Headers | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> PutResult:
        """Upload exactly `size` bytes of `body`, verified by MD5, with `content_type`
        and user `metadata` (and any other `headers`).

        A small body is read once into memory and sent with its MD5 as `ETag`, so Swift
        itself refuses corrupted bytes (422) and nothing is stored. A large body streams
        in 1 MiB blocks, hashed as sent; if Swift's ETag then differs, the object just
        written is deleted (nothing else) and IntegrityError raised."""
        upload = UploadBody(body, size)
        all_headers = {
            **(headers or {}),
            **object_headers(content_type, metadata),
            "Content-Length": str(size),
        }
        if upload.small:
            all_headers["ETag"] = upload.md5_hex_of_small()
        what = f"PUT {container}/{name}"
        path = object_path(container, name)
        try:
            resp = self._request("PUT", path, headers=all_headers, body=upload.chunks, what=what)
        except LocalBodyError as exc:
            raise exc.cause from None
        sent = upload.md5_hex()
        etag = etag_of(resp.headers)
        if resp.status == SUPERSEDED and not etag:
            # Swift answers 202 without an ETag when a newer PUT of the same name won the
            # race (its object servers said 409 on the timestamp): this body was accepted
            # and replaced at once. Nothing of ours is stored to discard, and deleting
            # would remove the winner's body.
            log.debug("%s superseded by a newer PUT of the same name", what)
            return PutResult(sent, resp.headers)
        if etag != sent:
            self._discard(container, name)
            raise IntegrityError(
                f"{what}: Swift stored MD5 {etag or 'none'} but {sent} was sent",
                trans_id=resp.headers.get("X-Trans-Id"),
            )
        return PutResult(etag, resp.headers)

    def delete_object(self, container: str, name: str, *, with_segments: bool = False) -> None:
        """Delete an object; with `with_segments`, a large object's segments too."""
        path = object_path(container, name)
        if not with_segments:
            self._request("DELETE", path, what=f"DELETE {container}/{name}")
            return
        resp = self._request(
            "DELETE",
            path,
            query="multipart-manifest=delete",
            headers={"Accept": "application/json"},
            what=f"DELETE {container}/{name}",
        )
        slo.check_bulk_delete(resp.data or b"", f"DELETE {container}/{name}")

    def put_manifest(
        self,
        container: str,
        name: str,
        segments: Sequence[slo.Segment],
        *,
        headers: Headers | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> PutResult:
        """Write a static large object manifest; Swift checks every segment's etag/size
        (InvalidInput if it disagrees: a segment missing or not as named)."""
        body = slo.encode_manifest(segments)
        what = f"PUT manifest {container}/{name}"
        all_headers = {
            **(headers or {}),
            **object_headers(content_type, metadata),
            "Content-Length": str(len(body)),
        }
        try:
            resp = self._request(
                "PUT",
                object_path(container, name),
                query="multipart-manifest=put",
                headers=all_headers,
                body=lambda: body,
                what=what,
            )
        except StorageError as exc:
            if exc.status == 400:  # Swift checked the segments and disagrees
                raise InvalidInput(exc.message) from None
            raise
        etag = etag_of(resp.headers)
        expected = slo.manifest_etag(segments)
        if etag and etag != expected:
            raise IntegrityError(f"{what}: Swift's ETag {etag} differs from {expected}")
        return PutResult(etag or expected, resp.headers)

    def get_manifest(self, container: str, name: str) -> list[slo.Segment]:
        """The segments of a static large object, in order."""
        resp = self._request(
            "GET",
            object_path(container, name),
            query="multipart-manifest=get",
            what=f"GET manifest {container}/{name}",
        )
        return slo.decode_manifest(resp.data or b"")

    def _discard(self, container: str, name: str) -> None:
        try:
            self.delete_object(container, name)
        except StorageError as exc:
            log.warning("could not delete corrupted %s/%s: %s", container, name, exc.message)


__all__ = ["CHUNK_SIZE", "LISTING_LIMIT", "Headers", "PutResult", "SwiftClient", "check_status"]
