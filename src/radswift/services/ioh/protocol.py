"""uvicorn's httptools protocol with a cap on a request's line and headers.

httptools hands uvicorn the request line and each header whole, and uvicorn appends URL
pieces as they come: neither bounds them. A client (no token needed: this is before any
route) that sent a URL or a header without end grew pfioh by the megabyte, 65 MiB of URL
took it from 57 to 136 MiB RSS. So the bytes received before a request's headers are
complete are counted, and past MAX_HEAD_BYTES (plus at most the one read that passed it,
which the parser has taken in) the request is answered 400 and the connection closed.
Bodies are not counted here: they stream (see bodypipe.py).
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024
"""The request line and headers of one request. The largest honest one is a legacy GET
whose `meta` (at most 16 KiB, legacy/messages.py) is percent-encoded: under 50 KiB."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that refuses a request head larger than MAX_HEAD_BYTES."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0

    def data_received(self, data: bytes) -> None:
        """Feed the parser, then refuse if the head is still incomplete past the cap (one
        read may carry the end of the head and the start of the body: only what is still
        head by then counts against it)."""
        counting = self._in_head
        if counting:
            self._head_bytes += len(data)
        super().data_received(data)
        if counting and self._in_head and self._head_bytes > MAX_HEAD_BYTES:
            self._in_head = False
            if not self.transport.is_closing():
                self.send_400_response(
                    f"the request line and headers exceed {MAX_HEAD_BYTES} bytes"
                )

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True  # the next request on this connection starts with its head
        super().on_message_complete()
