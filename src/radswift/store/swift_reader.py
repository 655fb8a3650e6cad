"""Streaming a Swift object, resuming a dropped connection where it broke.

When the stream breaks (connection reset, read timeout, short body), the reader asks
for the rest with `Range: bytes=N-` and `If-Match: <etag>`, so the bytes it goes on
yielding belong to the same object version; the caller's MD5, running over the
concatenated stream, stays valid. If the object changed meanwhile (412), that is an
IntegrityError. Resumes are bounded by the client's retry policy.
"""

from __future__ import annotations

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
    ) -> None:
        self._client = client
        self._container = container
        self._info = info
        self._segments = segments
        self._response = response
        self._position = offset

    @property
    def info(self) -> ObjectInfo:
        return self._info

    @property
    def segments(self) -> Sequence[SegmentRef] | None:
        return self._segments

    def iter_chunks(self) -> Iterator[bytes]:
        """The bytes from the requested offset to the end, resuming after a drop."""
        resumes = 0
        policy = self._client.retry_policy
        while self._response is not None:
            try:
                yield from self._drain(self._response)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                reason = describe_connection_error(exc)
            else:
                if self._position >= self._info.size:
                    self.close()
                    return
                reason = "the body ended early"
            self.close()
            resumes += 1
            if resumes >= policy.max_attempts:
                raise StorageUnavailable(
                    f"GET {self._container}/{self._info.name}: stream broke {resumes} times"
                    f" ({reason})"
                )
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
            if self._position < self._info.size:
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
