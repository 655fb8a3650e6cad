"""A download's Content-Disposition per RFC 6266 / 5987, whatever the file name holds."""

from __future__ import annotations

import pytest

from radswift.services.ioh.routes import attachment


@pytest.mark.parametrize(
    ("name", "fallback", "encoded"),
    [
        ("k-input.zip", "k-input.zip", "k-input.zip"),
        ("日本-input.zip", "__-input.zip", "%E6%97%A5%E6%9C%AC-input.zip"),
        (
            'k"; filename*=x-input.zip',
            "k__ filename*=x-input.zip",
            "k%22%3B%20filename%2A%3Dx-input.zip",
        ),
        ("a\r\nSet-Cookie: x", "a__Set-Cookie: x", "a%0D%0ASet-Cookie%3A%20x"),
    ],
)
def test_the_file_name_is_quoted_safely_and_given_exactly(
    name: str, fallback: str, encoded: str
) -> None:
    header = attachment(name)
    assert header == f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    header.encode("latin-1")  # what an HTTP header must be
    assert "\r" not in header and "\n" not in header
