"""Which podman images radswift owns: one per role (demo, test), the newest kept."""

from __future__ import annotations

from radswift.dev.demo.images import Image, parse_images, role_of, stale_images

ROWS = [  # as `podman images --format json localhost/radswift` lists them
    {"Names": ["localhost/radswift:test-aaa"], "Size": 425_000_000, "Created": 100},
    {"Names": ["localhost/radswift:test-bbb"], "Size": 425_000_001, "Created": 200},
    {"Names": ["localhost/radswift:demo-ccc"], "Size": 7, "Created": 150},
    {"Names": ["localhost/radswift:0.1.0"], "Size": 9, "Created": 300},  # a release: not ours
    {"Names": ["localhost/other:test-x"], "Size": 1, "Created": 400},
]


def test_only_role_tags_of_the_radswift_repository_are_ours() -> None:
    assert role_of("localhost/radswift:demo-1ef5582cc173") == "demo"
    assert role_of("localhost/radswift:test-1") == "test"
    assert role_of("localhost/radswift:0.1.0") is None
    assert role_of("localhost/radswift:demo") is None
    assert role_of("quay.io/radswift:test-1") is None


def test_building_an_image_makes_the_older_ones_of_its_role_stale() -> None:
    images = parse_images(ROWS)
    assert [i.name for i in images] == [
        "localhost/radswift:test-bbb",
        "localhost/radswift:demo-ccc",
        "localhost/radswift:test-aaa",
    ]  # newest first
    stale = stale_images(images, "localhost/radswift:test-bbb")
    assert stale == [Image("localhost/radswift:test-aaa", "test", 425_000_000, 100)]
    assert stale_images(images, "localhost/radswift:demo-ccc") == []
