"""A request body streamed from the event loop to a worker thread, with back-pressure.

The async side (`pump`) reads the ASGI body and feeds it in; the worker thread reads it
as a file (`read(n)`) while it unpacks and stores. At most `max_buffered` bytes wait in
between, so a fast client cannot make the server hold its upload in memory. If the
client goes away mid-body the reader raises, and the push rolls back; if the worker
stops early (a refused entry) the pump stops reading.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from contextlib import suppress

from starlette.requests import ClientDisconnect

from radswift.errors import InvalidInput

DEFAULT_MAX_BUFFERED = 2 * 1024 * 1024


class BodyInterrupted(InvalidInput):
    """The client stopped sending before the body was complete."""


class BodyPipe:
    """Bounded byte pipe from an async producer to one blocking reader thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_buffered: int = DEFAULT_MAX_BUFFERED):
        self._loop = loop
        self._max = max_buffered
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._cond = threading.Condition()
        self._eof = False
        self._error: BaseException | None = None
        self._abandoned = False
        self._space = asyncio.Event()
        self.received = 0

    async def pump(self, body: AsyncIterator[bytes]) -> None:
        """Feed the whole body in (run on the event loop beside the reader thread)."""
        try:
            async for chunk in body:
                if chunk and not await self._feed(chunk):
                    return
            self._finish(None)
        except ClientDisconnect:
            self._finish(
                BodyInterrupted("the client closed the connection mid-upload", reason="interrupted")
            )
        except BaseException as exc:
            self._finish(
                BodyInterrupted(
                    f"the upload was interrupted ({type(exc).__name__})", reason="interrupted"
                )
            )
            raise

    async def _feed(self, chunk: bytes) -> bool:
        while True:
            with self._cond:
                if self._abandoned:
                    return False
                if self._buffered < self._max:
                    self._chunks.append(chunk)
                    self._buffered += len(chunk)
                    self.received += len(chunk)
                    self._cond.notify()
                    return True
                self._space.clear()
            await self._space.wait()

    def _finish(self, error: BaseException | None) -> None:
        with self._cond:
            self._eof = True
            self._error = error
            self._cond.notify_all()

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that remain if negative); b"" at the end of the body."""
        with self._cond:
            while not self._chunks and not self._eof:
                self._cond.wait()
            if not self._chunks:
                if self._error is not None:
                    raise self._error
                return b""
            out = self._take(size)
        self._loop.call_soon_threadsafe(self._space.set)
        return out

    def _take(self, size: int) -> bytes:
        if size < 0:
            out = b"".join(self._chunks)
            self._chunks.clear()
        else:
            head = self._chunks[0]
            if len(head) <= size:
                out = self._chunks.popleft()
            else:
                out, self._chunks[0] = head[:size], head[size:]
        self._buffered -= len(out)
        return out

    def abandon(self) -> None:
        """The reader is done (finished or failed): stop accepting body bytes."""
        with self._cond:
            self._abandoned = True
            self._chunks.clear()
            self._buffered = 0
        with suppress(RuntimeError):  # a closed loop: nothing waits any more
            self._loop.call_soon_threadsafe(self._space.set)
