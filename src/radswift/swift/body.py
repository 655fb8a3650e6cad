"""Upload bodies: read once, hashed once, rewound for every retry.

A body up to `SMALL_BODY_LIMIT` is read into memory and hashed before sending, so its
MD5 can go in the request's `ETag` header and Swift verifies it atomically. A larger
body is streamed in `CHUNK_SIZE` blocks read into one reused buffer, and hashed as it
is sent; each attempt seeks back to where the body started and restarts the hash.
Local read failures are wrapped in LocalBodyError so the retry loop does not mistake
them for network failures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from radswift.errors import InvalidInput
from radswift.swift.http import CHUNK_SIZE

SMALL_BODY_LIMIT = 4 * CHUNK_SIZE


class LocalBodyError(Exception):
    """Reading the caller's body failed; `cause` is re-raised to the caller, unretried."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


class UploadBody:
    """Exactly `size` bytes of a seekable file, from its current position."""

    def __init__(self, body: BinaryIO, size: int) -> None:
        if size < 0:
            raise InvalidInput(f"negative body size {size}")
        self._body = body
        self._size = size
        self._start = body.tell()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._data: bytes | None = None
        if size <= SMALL_BODY_LIMIT:
            self._data = self._read_small()
            self._md5.update(self._data)

    @property
    def small(self) -> bool:
        return self._data is not None

    def md5_hex_of_small(self) -> str:
        assert self._data is not None
        return self._md5.hexdigest()

    def md5_hex(self) -> str:
        """MD5 of the bytes sent by the latest attempt."""
        return self._md5.hexdigest()

    def chunks(self) -> bytes | Iterator[bytes]:
        """The body for one attempt (rewound, with a fresh hash for a streamed body)."""
        if self._data is not None:
            return self._data
        self._md5 = hashlib.md5(usedforsecurity=False)
        return self._stream()

    def _read_small(self) -> bytes:
        data = self._body.read(self._size)
        if len(data) != self._size:
            raise _short(len(data), self._size)
        return data

    def _stream(self) -> Iterator[bytes]:
        md5 = self._md5
        try:
            self._body.seek(self._start)
        except OSError as exc:
            raise LocalBodyError(exc) from None
        readinto = getattr(self._body, "readinto", None)
        buffer = memoryview(bytearray(CHUNK_SIZE))
        remaining = self._size
        while remaining:
            want = min(CHUNK_SIZE, remaining)
            try:
                if readinto is not None:
                    got = readinto(buffer[:want])
                    chunk: bytes | memoryview = buffer[:got]
                else:
                    chunk = self._body.read(want)
                    got = len(chunk)
            except OSError as exc:
                raise LocalBodyError(exc) from None
            if not got:
                raise LocalBodyError(_short(self._size - remaining, self._size))
            md5.update(chunk)
            remaining -= got
            yield chunk  # type: ignore[misc]  # memoryview is bytes-like for the socket


def _short(got: int, size: int) -> InvalidInput:
    return InvalidInput(f"the body ended after {got} of the {size} bytes announced")
