"""A cap on request bodies: pman's bodies are small JSON documents, so anything larger is
refused with 413 before it is read (by its Content-Length) or as soon as it passes the cap
(a chunked body is read, at most the cap, before the app sees it)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from radswift.errors import InvalidInput
from radswift.services.ioh.http_errors import error_response

MAX_BODY = 1024 * 1024


class BodyTooLarge(InvalidInput):
    http_status = 413


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = BodyTooLarge(f"request bodies are at most {self.max_bytes} bytes",
                                 reason="body_too_large")  # fmt: skip
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await error_response(too_large)(scope, receive, send)
                return
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await error_response(too_large)(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
