"""Streaming a Swift object, resuming a dropped connection where it broke.

When the stream breaks (connection reset, read timeout, short body), the stream asks
for the rest with `Range: bytes=N-` and `If-Match: <etag>`, so the bytes it goes on
yielding belong to the same object version; the caller's MD5, running over the
concatenated stream, stays valid. If the object changed meanwhile (412), that is an
IntegrityError. Resumptions count against the client's one retry policy (a `Backoff`
kept for the stream's life), as every request's attempts do.

Two ways to read: `iter_chunks` yields fresh bytes objects (callers may keep them), and
`readinto` fills the caller's buffer straight from the socket. The latter is what the
transfer engine uses: urllib3's `read(amt)` copies every block through a BytesIO into a
newly allocated bytes object, which for 1 MiB blocks means fresh pages (page faults)
and two copies per block; `readinto` reuses one buffer per worker and copies once.
It reads the stored bytes as they are (no Content-Encoding decoding): those are the
bytes the ETag is the MD5 of.
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Self

import urllib3

from radswift.errors import IntegrityError, StorageError, StorageUnavailable
from radswift.objectinfo import ObjectInfo, SegmentRef
from radswift.swift.client import SwiftClient
from radswift.swift.http import CHUNK_SIZE, describe_connection_error
from radswift.swift.objects import content_range_start, object_from_headers
from radswift.swift.retry import Backoff

log = logging.getLogger(__name__)


class ObjectStream:
    """One object's bytes from an offset to its end, over one GET and its resumptions:
    an ObjectReader (store/base.py) with the object's `info` and, for an SLO, its
    `segments` from the manifest.

    Open it with `open_stream`; close it (or use it as a context manager): unread bytes
    drop the connection rather than drain it."""

    def __init__(
        self,
        client: SwiftClient,
        container: str,
        info: ObjectInfo,
        response: urllib3.BaseHTTPResponse | None,
        *,
        offset: int = 0,
        end: int | None = None,
        segments: Sequence[SegmentRef] | None = None,
    ) -> None:
        self._client = client
        self._container = container
        self._info = info
        self._segments = segments
        self._response = response
        self._position = offset
        self._end = info.size if end is None else min(end, info.size)
        """Where the requested bytes end: the object's end, or a bounded range's."""
        self._backoff: Backoff | None = None

    @property
    def info(self) -> ObjectInfo:
        return self._info

    @property
    def segments(self) -> Sequence[SegmentRef] | None:
        """For a large object, its segments in order (to verify each by MD5); else None."""
        return self._segments

    def iter_chunks(self) -> Iterator[bytes]:
        """The bytes from the requested offset to the end, resuming after a drop."""
        while self._response is not None:
            try:
                yield from self._drain(self._response)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                reason = describe_connection_error(exc)
            else:
                if self._position >= self._end:
                    self.close()
                    return
                reason = "the body ended early"
            self._reopen(reason)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """Fill `buffer` with the next bytes (fewer only at the end); 0 once at the end.

        A broken stream is resumed as by iter_chunks; the bytes land in `buffer` only."""
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self._response is not None:
            try:
                got = _raw_readinto(self._response, view[filled:])
            except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
                reason = describe_connection_error(exc)
            else:
                if got:
                    filled += got
                    self._position += got
                    if self._position >= self._end:
                        self.close()  # all there: the connection goes back to the pool
                    continue
                if self._position >= self._end:
                    self.close()
                    break
                reason = "the body ended early"
            self._reopen(reason)
        return filled

    def _reopen(self, reason: str) -> None:
        """Close the broken response and ask for the rest, or give up under the policy."""
        self.close()
        what = f"GET {self._container}/{self._info.name}"
        if self._backoff is None:
            self._backoff = Backoff(self._client.retry_policy, what=what)
        self._backoff.failed(StorageUnavailable(f"{what}: the stream broke ({reason})"))
        log.info("resuming %s at byte %d: %s", self._info.name, self._position, reason)
        self._response = self._resume()

    def _drain(self, response: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
        read = response.read
        while True:
            chunk = read(CHUNK_SIZE)
            if not chunk:
                return
            self._position += len(chunk)
            yield chunk

    def _resume(self) -> urllib3.BaseHTTPResponse:
        name = self._info.name
        try:
            response = self._client.get_object(
                self._container,
                name,
                offset=self._position,
                end=None if self._end == self._info.size else self._end,
                if_match=self._info.etag,
            )
        except StorageError as exc:
            if exc.status == 412:
                raise IntegrityError(
                    f"{self._container}/{name} changed while it was downloaded",
                    trans_id=exc.trans_id,
                ) from None
            raise
        start = content_range_start(response.headers.get("Content-Range"))
        if start != self._position:
            response.release_conn()
            raise IntegrityError(
                f"resuming {name} at byte {self._position}, Swift sent byte {start}"
            )
        return response

    def close(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            if self._position < self._end:
                response.close()  # unread bytes: drop the connection, do not drain it
            response.release_conn()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_stream(
    client: SwiftClient, container: str, name: str, *, offset: int = 0, length: int | None = None
) -> ObjectStream:
    """Start streaming `container/name` from byte `offset` (a large object's manifest is
    read too, for its segments), to its end or, with `length`, that many bytes at most
    (Swift is asked for that window only).

    An offset at or past the end (Swift answers 416) is an empty stream whose `info`
    comes from a HEAD: how a caller learns a large object's size and segments without
    reading a byte of it."""
    end = None if length is None else offset + max(length, 0)
    response: urllib3.BaseHTTPResponse | None = None
    if end != offset:  # an empty window: nothing to ask Swift for
        try:
            response = client.get_object(container, name, offset=offset, end=end)
        except StorageError as exc:
            if exc.status != 416:
                raise
    if response is None:
        info = object_from_headers(name, client.head_object(container, name))
        return ObjectStream(
            client, container, info, None, segments=_segments(client, container, info)
        )
    try:
        info = object_from_headers(name, response.headers)
        segments = _segments(client, container, info)
    except BaseException:
        response.release_conn()
        raise
    return ObjectStream(
        client, container, info, response, offset=offset, end=end, segments=segments
    )


def _segments(client: SwiftClient, container: str, info: ObjectInfo) -> list[SegmentRef] | None:
    return client.get_manifest(container, info.name) if info.large else None


def _raw_readinto(response: urllib3.BaseHTTPResponse, view: memoryview) -> int:
    """Read into `view` from the http.client response under urllib3's, bypassing
    urllib3's decoding and buffering; through urllib3 if there is no such response."""
    raw = getattr(response, "_fp", None)
    if isinstance(raw, http.client.HTTPResponse):
        return raw.readinto(view)
    data = response.read(len(view), decode_content=False)
    view[: len(data)] = data
    return len(data)
