"""Which area a prefix or an object name lies in: only a top-level area holds a bundle."""

from __future__ import annotations

import pytest

from radswift.bundle.area_transfer import top_area


@pytest.mark.parametrize(
    ("prefix", "area"),
    [("input/", "input/"), ("input/a/b.dcm", "input/"), ("x", ""), ("", ""), ("/x", "")],
)
def test_the_top_level_area_of_a_prefix_or_name(prefix: str, area: str) -> None:
    assert top_area(prefix) == area
