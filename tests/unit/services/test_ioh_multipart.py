"""The streaming multipart reader, fed in tiny pieces to cross every boundary."""

from __future__ import annotations

import io

import httpx
import pytest

from radswift.errors import InvalidInput, UnsafeArchive
from radswift.services.ioh.multipart import MultipartReader, boundary_of, form_entries


def form(
    files: list[tuple[str, tuple[str, bytes]]], data: dict[str, str] | None = None
) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://x/", data=data, files=files)
    return request.read(), request.headers["content-type"]


def trickle(body: bytes, step: int = 7) -> io.BytesIO:
    class Slow(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            return super().read(min(step, n if n and n > 0 else step))

    return Slow(body)


def test_fields_and_files_come_out_in_order_with_their_bytes() -> None:
    big = bytes(range(256)) * 3000
    body, ctype = form([("local", ("data.zip", big))], {"d_msg": '{"a": 1}', "filename": "f"})
    reader = MultipartReader(trickle(body, 1000).read, boundary_of(ctype))
    seen = []
    while (part := reader.next_part()) is not None:
        seen.append((part.name, part.filename, b"".join(part.chunks())))
    assert seen == [
        ("d_msg", None, b'{"a": 1}'),
        ("filename", None, b"f"),
        ("local", "data.zip", big),
    ]


def test_unread_parts_are_skipped() -> None:
    body, ctype = form([("a", ("a.txt", b"A" * 1000)), ("b", ("b.txt", b"B"))])
    reader = MultipartReader(trickle(body).read, boundary_of(ctype))
    assert reader.next_part() is not None
    second = reader.next_part()
    assert second is not None and second.read() == b"B"
    assert reader.next_part() is None


def test_form_entries_use_validated_relative_filenames() -> None:
    body, ctype = form([("f", ("dir/x.dcm", b"1")), ("f", ("../escape", b"2"))])
    entries = form_entries(MultipartReader(io.BytesIO(body).read, boundary_of(ctype)))
    entry, chunks = next(entries)
    assert entry.path == "dir/x.dcm" and b"".join(chunks) == b"1"
    with pytest.raises(UnsafeArchive):
        next(entries)


def test_a_truncated_form_is_an_error() -> None:
    body, ctype = form([("f", ("x", b"12345" * 100))])
    reader = MultipartReader(io.BytesIO(body[:-60]).read, boundary_of(ctype))
    with pytest.raises(InvalidInput):
        while (part := reader.next_part()) is not None:
            part.read()


def test_a_multipart_type_without_boundary_is_refused() -> None:
    with pytest.raises(InvalidInput):
        boundary_of("multipart/form-data")


class HugeFieldBody:
    """A form whose first field is `size` bytes, made on demand; counts what is read."""

    def __init__(self, size: int) -> None:
        self.boundary = "b0undary"
        self.head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="d_msg"\r\n\r\n'
        ).encode()
        self.size, self.consumed = size, 0

    def read(self, n: int) -> bytes:
        start = self.consumed
        if start < len(self.head):
            out = self.head[start : start + n]
        elif start < len(self.head) + self.size:
            out = b"x" * min(n, len(self.head) + self.size - start)
        else:
            out = b""
        self.consumed += len(out)
        return out


def test_a_form_field_is_read_no_further_than_its_limit() -> None:
    """A 64 MiB field was read whole into memory before its 1 MiB limit was checked."""
    body = HugeFieldBody(64 * 1024 * 1024)
    reader = MultipartReader(body.read, body.boundary)
    part = reader.next_part()
    assert part is not None and part.name == "d_msg"
    with pytest.raises(InvalidInput, match="larger than 100000 bytes") as caught:
        part.text(limit=100_000)
    assert caught.value.http_status == 413
    assert body.consumed < 100_000 + 2 * 256 * 1024, body.consumed


def test_a_part_header_is_capped_too() -> None:
    """python-multipart caps a header line itself; what it raises becomes a 400."""
    body = b'--b\r\nContent-Disposition: form-data; name="' + b"n" * (4 * 1024 * 1024)
    reader = MultipartReader(io.BytesIO(body).read, "b")
    with pytest.raises(InvalidInput, match="header size"):
        reader.next_part()
