"""HTTP Range for single-file reads: one byte range, as RFC 9110 describes it."""

from __future__ import annotations

from dataclasses import dataclass

from radswift.errors import InvalidInput


class RangeNotSatisfiable(InvalidInput):
    """No byte of the requested range exists (HTTP 416)."""

    http_status = 416


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int
    """Inclusive, as in Content-Range."""

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to send, or None for the whole object.

    Multiple ranges and malformed headers are ignored (the whole object is sent, which
    RFC 9110 allows); a syntactically valid range past the end is RangeNotSatisfiable.
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, sep, last = spec.strip().partition("-")
    if not sep:
        return None
    try:
        if first == "":
            suffix = int(last)
            if suffix <= 0:
                raise RangeNotSatisfiable("an empty suffix range", reason="bad_range")
            return ByteRange(max(size - suffix, 0), size - 1) if size else _unsatisfiable()
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size:
        _unsatisfiable()
    if start < 0 or end < start:
        return None
    return ByteRange(start, min(end, size - 1))


def _unsatisfiable() -> ByteRange:
    raise RangeNotSatisfiable("the requested range is outside the object", reason="bad_range")
