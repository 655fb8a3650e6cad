"""What Swift says about an object, parsed in one place (radswift.swift.objects)."""

from __future__ import annotations

from radswift.swift.objects import (
    content_range_start,
    content_range_total,
    object_from_headers,
    object_from_listing,
    object_headers,
)


def test_a_ranged_get_reports_the_whole_size_from_content_range() -> None:
    headers = {"Content-Range": "bytes 10-99/100", "Content-Length": "90", "Etag": '"ab"'}
    obj = object_from_headers("o", headers)
    assert (obj.size, obj.etag) == (100, "ab")
    assert content_range_start(headers["Content-Range"]) == 10


def test_malformed_content_ranges_are_none() -> None:
    assert content_range_start(None) is None
    assert content_range_start("items 1-2/3") is None
    assert content_range_total("bytes 1-2/*") is None


def test_metadata_round_trips_utf8_through_latin1_headers() -> None:
    headers = object_headers("text/plain", {"Patient": "Zoë"})
    assert headers["Content-Type"] == "text/plain"
    obj = object_from_headers("o", {**headers, "Content-Length": "3"})
    assert obj.metadata == {"patient": "Zoë"}


def test_a_listing_entry_of_an_slo_carries_its_slo_etag() -> None:
    entry = {"name": "big", "bytes": 5, "hash": "seg", "slo_etag": '"whole"'}
    obj = object_from_listing(entry)
    assert (obj.etag, obj.large) == ("whole", True)
    assert object_from_listing({"name": "small", "hash": "h"}).large is False
