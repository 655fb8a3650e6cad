"""Streaming multipart/form-data parsing, part by part, from a blocking reader.

python-multipart's parser pushes callbacks; this turns it around into `next_part()` and
`Part.read(n)`, pulling body bytes only as fast as the consumer takes part data, so a
form upload is never held whole (neither in memory nor on disk).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message

from python_multipart.multipart import MultipartParser

from radswift.archive.model import ArchiveEntry
from radswift.archive.paths import normalize_entry_path
from radswift.errors import InvalidInput, UnsafeArchive
from radswift.names import MAX_OBJECT_NAME_BYTES

READ_CHUNK = 256 * 1024
MAX_FIELD_BYTES = 64 * 1024
"""A non-file field (the legacy d_msg, filename) larger than this is refused, having read
no more than this and one chunk (the legacy message itself is capped at 16 KiB)."""


@dataclass(slots=True)
class Part:
    """One part of the form; read its data before asking for the next part."""

    name: str
    filename: str | None
    _reader: MultipartReader

    def read(self, size: int = -1) -> bytes:
        return self._reader._read_part(self, size)

    def chunks(self) -> Iterator[bytes]:
        while data := self.read(READ_CHUNK):
            yield data

    def text(self, limit: int = MAX_FIELD_BYTES) -> str:
        """The field's value; refused as soon as it passes `limit` (never read whole)."""
        parts: list[bytes] = []
        got = 0
        while data := self.read(READ_CHUNK):
            got += len(data)
            if got > limit:
                raise InvalidInput(
                    f"the form field {self.name[:60]!r} is larger than {limit} bytes",
                    reason="bad_form",
                    too_large=True,
                )
            parts.append(data)
        return b"".join(parts).decode("utf-8", errors="replace")


class MultipartReader:
    """Pull-style reader of a multipart body given by `read(n)`."""

    def __init__(self, read: Callable[[int], bytes], boundary: str) -> None:
        self._read = read
        self._events: deque[tuple[str, bytes]] = deque()
        self._header_field = b""
        self._header_value = b""
        self._headers: list[bytes] = []
        self._done = False
        self._current: Part | None = None
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": lambda: self._events.append(("begin", b"")),
                "on_part_data": lambda d, s, e: self._events.append(("data", bytes(d[s:e]))),
                "on_part_end": lambda: self._events.append(("end", b"")),
                "on_header_field": self._on_field,
                "on_header_value": self._on_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_end": lambda: self._events.append(("eof", b"")),
            },
        )

    def next_part(self) -> Part | None:
        """The next part (the rest of the current one is skipped), or None at the end."""
        if self._current is not None:
            while self._current.read(READ_CHUNK):
                pass
        while True:
            kind, payload = self._next_event()
            if kind == "eof":
                return None
            if kind == "headers":
                part = self._make_part(payload)
                self._current = part
                return part

    def _make_part(self, raw_headers: bytes) -> Part:
        message = Message()
        for line in raw_headers.decode("utf-8", errors="replace").split("\r\n"):
            field, _, value = line.partition(":")
            if field:
                message[field.strip()] = value.strip()
        name = message.get_param("name", header="content-disposition")
        filename = message.get_param("filename", header="content-disposition")
        if not isinstance(name, str):
            raise InvalidInput("a form part has no name", reason="bad_form")
        return Part(
            name=name, filename=filename if isinstance(filename, str) else None, _reader=self
        )

    def _read_part(self, part: Part, size: int) -> bytes:
        if part is not self._current:
            return b""
        while True:
            if self._events and self._events[0][0] == "data":
                data = self._events[0][1]
                if 0 <= size < len(data):
                    self._events[0] = ("data", data[size:])
                    return data[:size]
                self._events.popleft()
                if data:
                    return data
                continue
            if self._events:
                kind, _ = self._events.popleft()
                if kind in ("end", "eof"):
                    self._current = None
                    return b""
                continue
            self._pull()

    def _next_event(self) -> tuple[str, bytes]:
        while not self._events:
            self._pull()
        return self._events.popleft()

    def _pull(self) -> None:
        if self._done:
            raise InvalidInput("the form ended before its closing boundary", reason="bad_form")
        data = self._read(READ_CHUNK)
        if not data:
            self._done = True
            self._parser.finalize()
            if not self._events or self._events[-1][0] != "eof":
                raise InvalidInput("the form ended before its closing boundary", reason="bad_form")
            return
        try:
            self._parser.write(data)
        except Exception as exc:
            raise InvalidInput(f"malformed multipart body: {exc}", reason="bad_form") from None

    def _on_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers.append(self._header_field + b": " + self._header_value)
        self._header_field = self._header_value = b""

    def _on_headers_finished(self) -> None:
        """The part's headers travel with its event: the parser may run ahead of the reader."""
        self._events.append(("headers", b"\r\n".join(self._headers)))
        self._headers = []


def form_entries(reader: MultipartReader) -> Iterator[tuple[ArchiveEntry, Iterator[bytes]]]:
    """Every file part as a push entry named by its (validated) filename; other fields
    are ignored. A filename may hold a relative path (`series1/img001.dcm`)."""
    while (part := reader.next_part()) is not None:
        if part.filename is None:
            continue
        path = normalize_entry_path(part.filename, max_name_bytes=MAX_OBJECT_NAME_BYTES)
        if not path:
            raise UnsafeArchive(
                f"the form file {part.filename!r} has no usable name", reason="bad_name"
            )
        yield ArchiveEntry(path=path, is_dir=False, size=None, mtime=None), part.chunks()


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a multipart/form-data content type."""
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise InvalidInput("a multipart body needs a boundary", reason="bad_form")
    return boundary
