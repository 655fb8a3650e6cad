"""SwiftStore: the ObjectStore interface over OpenStack Swift (see store/base.py for duties).

Everything Swift-specific (auth, retries, quoting, headers, status codes, SLO manifests,
resumed downloads) lives in radswift.swift; this module maps those operations onto
ObjectStore's values. Large objects are Swift SLOs whose segments the caller has
uploaded (by convention to `<key>_segments`); deleting one deletes its segments too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import BinaryIO

from radswift.errors import InvalidInput, InvalidName
from radswift.names import MAX_CONTAINER_NAME_BYTES, validate_object_name
from radswift.store.base import ObjectInfo, SegmentRef
from radswift.swift.client import LISTING_LIMIT, SwiftClient
from radswift.swift.credentials import SwiftCredentials
from radswift.swift.reader import ObjectStream, open_stream
from radswift.swift.retry import RetryPolicy


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
        return self._client.container_exists(_check_container(container))

    def delete_container(self, container: str) -> None:
        self._client.delete_container(_check_container(container))

    # -- reading -----------------------------------------------------------------------

    def list_objects(
        self, container: str, prefix: str = "", *, marker: str = ""
    ) -> Iterator[ObjectInfo]:
        objects = self._client.iter_objects(
            _check_container(container), prefix=prefix, marker=marker, page_size=self._page_size
        )
        yield from objects

    def head_object(self, container: str, name: str) -> ObjectInfo:
        return self._client.stat_object(container, name)

    def open_object(
        self, container: str, name: str, *, offset: int = 0, length: int | None = None
    ) -> ObjectStream:
        return open_stream(self._client, container, name, offset=offset, length=length)

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
        result = self._client.put_object(
            container, name, body, size, content_type=content_type, metadata=metadata
        )
        return ObjectInfo(
            name=name,
            size=size,
            etag=result.etag,
            last_modified=result.last_modified,
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
        result = self._client.put_manifest(
            container, name, segments, content_type=content_type, metadata=metadata
        )
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
        large = self._client.stat_object(container, name).large
        self._client.delete_object(container, name, with_segments=large)

    def close(self) -> None:
        self._client.close()


def _check_container(container: str) -> str:
    if not container or "/" in container:
        raise InvalidName(f"{container!r} cannot name a container (empty or contains '/')")
    if len(container.encode("utf-8", "surrogatepass")) > MAX_CONTAINER_NAME_BYTES:
        raise InvalidName(f"container names are at most {MAX_CONTAINER_NAME_BYTES} bytes")
    return container
