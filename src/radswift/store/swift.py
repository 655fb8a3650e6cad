"""SwiftStore: the ObjectStore interface over OpenStack Swift (see store/base.py for duties).

Everything Swift-specific (auth, retries, quoting, SLO manifests) lives in
radswift.swift; this module maps those operations and headers onto ObjectStore's
values. Large objects are Swift SLOs whose segments the caller has uploaded (by
convention to `<key>_segments`); deleting one deletes its segments too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, BinaryIO

from radswift.errors import InvalidInput, InvalidName, StorageError
from radswift.names import MAX_CONTAINER_NAME_BYTES, validate_object_name
from radswift.store.base import ObjectInfo, SegmentRef
from radswift.store.swift_reader import SwiftReader, content_range_total
from radswift.swift import slo
from radswift.swift.client import LISTING_LIMIT, Headers, SwiftClient
from radswift.swift.credentials import SwiftCredentials
from radswift.swift.retry import RetryPolicy

META_PREFIX = "x-object-meta-"


class SwiftStore:
    """An ObjectStore backed by one Swift account."""

    def __init__(self, client: SwiftClient, *, page_size: int = LISTING_LIMIT) -> None:
        self._client = client
        self._page_size = page_size

    @classmethod
    def from_credentials(
        cls,
        creds: SwiftCredentials,
        *,
        workers: int = 16,
        retry: RetryPolicy | None = None,
        page_size: int = LISTING_LIMIT,
    ) -> SwiftStore:
        """A store whose connection pool serves `workers` threads at once."""
        client = SwiftClient.from_credentials(creds, workers=workers, retry=retry)
        return cls(client, page_size=page_size)

    @property
    def client(self) -> SwiftClient:
        return self._client

    @property
    def description(self) -> str:
        return f"Swift ({self._client.describe()})"

    # -- containers ----------------------------------------------------------------------

    def ensure_container(self, container: str) -> None:
        self._client.put_container(_check_container(container))

    def container_exists(self, container: str) -> bool:
        try:
            self._client.head_container(_check_container(container))
        except StorageError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def delete_container(self, container: str) -> None:
        self._client.delete_container(_check_container(container))

    # -- reading -----------------------------------------------------------------------

    def list_objects(
        self, container: str, prefix: str = "", *, marker: str = ""
    ) -> Iterator[ObjectInfo]:
        entries = self._client.iter_listing(
            _check_container(container), prefix=prefix, marker=marker, page_size=self._page_size
        )
        for entry in entries:
            if "name" in entry:
                yield info_from_listing(entry)

    def head_object(self, container: str, name: str) -> ObjectInfo:
        return info_from_headers(name, self._client.head_object(container, name))

    def open_object(
        self, container: str, name: str, *, offset: int = 0, length: int | None = None
    ) -> SwiftReader:
        end = None if length is None else offset + max(length, 0)
        if end == offset:
            return self._empty_reader(container, name)  # nothing to ask Swift for
        try:
            response = self._client.get_object(container, name, offset=offset, end=end)
        except StorageError as exc:
            if exc.status != 416:
                raise
            return self._empty_reader(container, name)  # offset at or past the end
        info = info_from_headers(name, response.headers)
        try:
            segments = self._segments(container, info)
        except BaseException:
            response.release_conn()
            raise
        return SwiftReader(
            self._client, container, info, segments, response, offset=offset, end=end
        )

    def _empty_reader(self, container: str, name: str) -> SwiftReader:
        info = self.head_object(container, name)
        return SwiftReader(self._client, container, info, self._segments(container, info), None)

    def _segments(self, container: str, info: ObjectInfo) -> list[SegmentRef] | None:
        if not info.large:
            return None
        return [
            SegmentRef(container=s.container, name=s.name, etag=s.etag, size=s.size)
            for s in self._client.get_manifest(container, info.name)
        ]

    # -- writing -----------------------------------------------------------------------

    def put_object(
        self,
        container: str,
        name: str,
        body: BinaryIO,
        size: int,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        validate_object_name(name)
        headers = object_headers(content_type, metadata)
        result = self._client.put_object(container, name, body, size, headers=headers)
        return ObjectInfo(
            name=name,
            size=size,
            etag=result.etag,
            last_modified=_iso(result.headers.get("Last-Modified")),
            content_type=content_type,
            metadata=dict(metadata or {}),
        )

    def put_manifest(
        self,
        container: str,
        name: str,
        segments: Sequence[SegmentRef],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        validate_object_name(name)
        if not segments:
            raise InvalidInput("a manifest needs at least one segment")
        parts = [
            slo.Segment(container=s.container, name=s.name, etag=s.etag, size=s.size)
            for s in segments
        ]
        headers = object_headers(content_type, metadata)
        try:
            result = self._client.put_manifest(container, name, parts, headers=headers)
        except StorageError as exc:
            if exc.status == 400:  # Swift checked the segments and disagrees
                raise InvalidInput(exc.message) from None
            raise
        return ObjectInfo(
            name=name,
            size=sum(s.size for s in segments),
            etag=result.etag,
            content_type=content_type,
            large=True,
            metadata=dict(metadata or {}),
        )

    def delete_object(self, container: str, name: str) -> None:
        """Delete an object; for a large object, its segments first (Swift's SLO delete).

        A HEAD decides which: Swift refuses an SLO delete of a plain object, and a plain
        delete of a manifest would orphan its segments."""
        info = self.head_object(container, name)
        self._client.delete_object(container, name, with_segments=info.large)

    def close(self) -> None:
        self._client.close()


def object_headers(content_type: str | None, metadata: Mapping[str, str] | None) -> Headers:
    """Request headers for an object's content type and user metadata.

    Header values travel as latin-1 on the wire: UTF-8 bytes are passed through that
    way, which is how Swift stores and returns them."""
    headers: dict[str, str] = {}
    if content_type:
        headers["Content-Type"] = content_type
    for key, value in (metadata or {}).items():
        headers[f"X-Object-Meta-{key}"] = value.encode("utf-8").decode("latin-1")
    return headers


def info_from_headers(name: str, headers: Headers) -> ObjectInfo:
    """ObjectInfo from HEAD/GET headers (a ranged GET's size comes from Content-Range)."""
    size = content_range_total(headers.get("Content-Range"))
    if size is None:
        size = int(headers.get("Content-Length", "0"))
    metadata = {
        key[len(META_PREFIX) :].lower(): _utf8(value)
        for key, value in headers.items()
        if key.lower().startswith(META_PREFIX)
    }
    return ObjectInfo(
        name=name,
        size=size,
        etag=headers.get("Etag", "").strip('"'),
        last_modified=_iso_from_timestamp(headers.get("X-Timestamp"))
        or _iso(headers.get("Last-Modified")),
        content_type=headers.get("Content-Type"),
        large=headers.get("X-Static-Large-Object", "").lower() == "true",
        metadata=metadata,
    )


def info_from_listing(entry: Mapping[str, Any]) -> ObjectInfo:
    """ObjectInfo from one JSON listing entry; an SLO's ETag is its `slo_etag`."""
    slo_etag = entry.get("slo_etag")
    return ObjectInfo(
        name=str(entry["name"]),
        size=int(entry.get("bytes", 0)),
        etag=str(slo_etag or entry.get("hash", "")).strip('"'),
        last_modified=entry.get("last_modified"),
        content_type=entry.get("content_type"),
        large=slo_etag is not None,
    )


def _check_container(container: str) -> str:
    if not container or "/" in container:
        raise InvalidName(f"{container!r} cannot name a container (empty or contains '/')")
    if len(container.encode("utf-8", "surrogatepass")) > MAX_CONTAINER_NAME_BYTES:
        raise InvalidName(f"container names are at most {MAX_CONTAINER_NAME_BYTES} bytes")
    return container


def _utf8(value: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _iso_from_timestamp(value: str | None) -> str | None:
    """Swift's X-Timestamp as the listing's `2026-11-25T02:37:53.340180` (UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _iso(value: str | None) -> str | None:
    """An HTTP date (Last-Modified) in the listing's format, to the second."""
    if not value:
        return None
    try:
        moment = datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT")
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
