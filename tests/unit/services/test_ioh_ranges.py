"""HTTP Range parsing for single-file reads."""

from __future__ import annotations

import pytest

from radswift.services.ioh.ranges import ByteRange, RangeNotSatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", ByteRange(0, 9)),
        ("bytes=5-", ByteRange(5, 99)),
        ("bytes=90-500", ByteRange(90, 99)),
        ("bytes=-10", ByteRange(90, 99)),
        ("bytes=-500", ByteRange(0, 99)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole object
        ("items=0-1", None),
        ("bytes=9-2", None),
        ("bytes=a-b", None),
    ],
)
def test_ranges_of_a_100_byte_object(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=150-200", "bytes=-0"])
def test_a_range_outside_the_object_is_416(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as err:
        parse_range(header, 100)
    assert err.value.http_status == 416


def test_content_range_and_length() -> None:
    assert ByteRange(10, 19).content_range(100) == "bytes 10-19/100"
    assert ByteRange(10, 19).length == 10
