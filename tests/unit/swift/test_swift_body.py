"""Upload bodies: exactly `size` bytes, one MD5, rewound for every retry."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import pytest

from radswift.errors import InvalidInput
from radswift.swift.body import SMALL_BODY_LIMIT, LocalBodyError, UploadBody


def sent(body: bytes | Iterator[bytes]) -> bytes:
    if isinstance(body, bytes):
        return body
    return b"".join(bytes(chunk) for chunk in body)


def test_small_body_is_read_once_and_hashed_before_sending() -> None:
    data = b"dicom" * 1000
    source = io.BytesIO(b"skip" + data + b"tail")
    source.seek(4)
    upload = UploadBody(source, len(data))
    assert upload.small
    assert upload.md5_hex_of_small() == hashlib.md5(data).hexdigest()
    assert sent(upload.chunks()) == data
    assert sent(upload.chunks()) == data  # a retry sends the same bytes


def test_large_body_streams_from_its_start_and_rehashes_on_every_attempt() -> None:
    data = bytes(range(256)) * ((SMALL_BODY_LIMIT + 12345) // 256)
    source = io.BytesIO(b"x" * 7 + data + b"after")
    source.seek(7)
    upload = UploadBody(source, len(data))
    assert not upload.small
    first = upload.chunks()
    next(iter(first))  # an attempt that broke after its first block
    assert sent(upload.chunks()) == data
    assert upload.md5_hex() == hashlib.md5(data).hexdigest()


def test_large_body_blocks_are_one_mebibyte() -> None:
    data = b"\0" * (SMALL_BODY_LIMIT + 1)
    chunks = UploadBody(io.BytesIO(data), len(data)).chunks()
    assert not isinstance(chunks, bytes)
    sizes = [len(chunk) for chunk in chunks]
    assert sizes[0] == 1 << 20 and sizes[-1] == 1 and sum(sizes) == len(data)


def test_a_body_shorter_than_announced_is_refused() -> None:
    with pytest.raises(InvalidInput, match="ended after 3 of the 10 bytes"):
        UploadBody(io.BytesIO(b"abc"), 10)
    big = SMALL_BODY_LIMIT + 10
    upload = UploadBody(io.BytesIO(b"a" * (big - 1)), big)
    with pytest.raises(LocalBodyError) as caught:
        sent(upload.chunks())
    assert isinstance(caught.value.cause, InvalidInput)


def test_only_size_bytes_are_sent_even_if_the_file_is_longer() -> None:
    data = b"a" * (SMALL_BODY_LIMIT + 5)
    upload = UploadBody(io.BytesIO(data + b"more"), len(data))
    assert sent(upload.chunks()) == data
