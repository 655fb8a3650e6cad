"""Streaming a Swift object, resuming a dropped connection where it broke.

When the stream breaks (connection reset, read timeout, short body), the reader asks
for the rest with `Range: bytes=N-` and `If-Match: <etag>`, so the bytes it goes on
yielding belong to the same object version; the caller's MD5, running over the
concatenated stream, stays valid. If the object changed meanwhile (412), that is an
IntegrityError. Resumes are bounded by the client's retry policy.

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
import random
import time
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Self

import urllib3

from radswift.errors import IntegrityError, StorageError, StorageUnavailable
from radswift.store.base import ObjectInfo, SegmentRef
from radswift.swift.client import SwiftClient
from radswift.swift.http import CHUNK_SIZE, describe_connection_error

log = logging.getLogger(__name__)


class SwiftReader:
    """An ObjectReader over one GET response (and its resumptions)."""

    def __init__(
        self,
        client: SwiftClient,
        container: str,
        info: ObjectInfo,
        segments: Sequence[SegmentRef] | None,
        response: urllib3.BaseHTTPResponse | None,
        *,
        offset: int = 0,
        end: int | None = None,
    ) -> None:
        self._client = client
        self._container = container
        self._info = info
        self._segments = segments
        self._response = response
        self._position = offset
        self._end = info.size if end is None else min(end, info.size)
        """Where the requested bytes end: the object's end, or a bounded range's."""
        self._resumes = 0

    @property
    def info(self) -> ObjectInfo:
        return self._info

    @property
    def segments(self) -> Sequence[SegmentRef] | None:
        return self._segments

    def iter_chunks(self) -> Iterator[bytes]:
        """The bytes from the requested offset to the end (of the object or of the
        requested range), resuming after a drop."""
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
        """Close the broken response and ask for the rest, or give up after the retries."""
        self.close()
        self._resumes += 1
        resumes = self._resumes
        policy = self._client.retry_policy
        if resumes >= policy.max_attempts:
            what = f"GET {self._container}/{self._info.name}"
            raise StorageUnavailable(f"{what}: stream broke {resumes} times ({reason})")
        log.info("resuming %s at byte %d: %s", self._info.name, self._position, reason)
        time.sleep(policy.delay(resumes - 1, random.random()))  # noqa: S311 (jitter)
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
        try:
            response = self._client.get_object(
                self._container,
                self._info.name,
                offset=self._position,
                end=None if self._end == self._info.size else self._end,
                if_match=self._info.etag,
            )
        except StorageError as exc:
            if exc.status == 412:
                raise IntegrityError(
                    f"{self._container}/{self._info.name} changed while it was downloaded",
                    trans_id=exc.trans_id,
                ) from None
            raise
        start = content_range_start(response.headers.get("Content-Range"))
        if start != self._position:
            response.release_conn()
            raise IntegrityError(
                f"resuming {self._info.name} at byte {self._position}, Swift sent byte {start}"
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


def _raw_readinto(response: urllib3.BaseHTTPResponse, view: memoryview) -> int:
    """Read into `view` from the http.client response under urllib3's, bypassing
    urllib3's decoding and buffering; through urllib3 if there is no such response."""
    raw = getattr(response, "_fp", None)
    if isinstance(raw, http.client.HTTPResponse):
        return raw.readinto(view)
    data = response.read(len(view), decode_content=False)
    view[: len(data)] = data
    return len(data)


def content_range_start(value: str | None) -> int | None:
    """The first byte of `Content-Range: bytes START-END/TOTAL`, or None."""
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[len("bytes ") :].split("-", 1)[0])
    except ValueError:
        return None


def content_range_total(value: str | None) -> int | None:
    """The TOTAL of `Content-Range: bytes START-END/TOTAL`, or None."""
    if not value or "/" not in value:
        return None
    try:
        return int(value.rsplit("/", 1)[1])
    except ValueError:
        return None
