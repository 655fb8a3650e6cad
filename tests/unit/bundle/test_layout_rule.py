"""The one rule every writer and reader keeps: an area never mixes layouts."""

from __future__ import annotations

import pytest

from radswift.bundle import AreaState, Layout, area_state, would_mix
from radswift.errors import InvalidInput

BUNDLE = "input/.radswift-bundle.tar"


@pytest.mark.parametrize(
    ("names", "state"),
    [
        ([], AreaState.EMPTY),
        (["output/a", "input2/x"], AreaState.EMPTY),  # other areas do not count
        (["input/a", "input/sub/b"], AreaState.OBJECTS),
        ([BUNDLE], AreaState.BUNDLE),
        ([BUNDLE, "input/a"], AreaState.MIXED),
        (["input/sub/.radswift-bundle.tar"], AreaState.OBJECTS),  # only the area's own
    ],
)
def test_an_area_is_stored_one_way_or_the_other(names: list[str], state: AreaState) -> None:
    assert area_state(names, "input/") is state


def test_a_bundle_never_joins_per_file_objects_and_objects_never_join_a_bundle() -> None:
    assert would_mix(["input/a"], "input/", Layout.BUNDLE)
    assert not would_mix([BUNDLE], "input/", Layout.BUNDLE)  # a bundle replaces a bundle
    assert would_mix([BUNDLE], "input/", Layout.OBJECTS)
    assert not would_mix(["input/a"], "input/", Layout.OBJECTS)
    assert not would_mix([], "input/", Layout.BUNDLE)


def test_layout_names_parse_in_one_place() -> None:
    assert Layout.parse("bundle") is Layout.BUNDLE
    with pytest.raises(InvalidInput, match="unknown layout 'zip': use objects or bundle"):
        Layout.parse("zip")
