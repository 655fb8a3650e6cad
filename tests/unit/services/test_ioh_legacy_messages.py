"""Legacy message parsing: JSON or a Python literal, never evaluated; keys never paths."""

from __future__ import annotations

import urllib.parse

import pytest

from radswift.errors import InvalidInput, InvalidName
from radswift.services.ioh.legacy.messages import (
    action_of,
    parse_control,
    parse_literal,
    resolve_key,
)


def test_json_and_the_python_repr_pfurl_sends_parse_alike() -> None:
    meta = {"remote": {"key": "k1"}, "transport": {"checkRemote": True, "n": None}}
    query = urllib.parse.urlencode({"action": "pullPath", "meta": meta})
    raw = urllib.parse.parse_qs(query)["meta"][0]
    assert raw.startswith("{'remote'")
    assert parse_literal(raw) == meta
    assert (
        parse_literal('{"remote": {"key": "k1"}, "transport": {"checkRemote": true, "n": null}}')
        == meta
    )


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "{'a': __import__('os')}",
        "(lambda: 1)()",
        "[1, 2]",
        "{'a': 1",
        "{" * 100_000,
        "x" * 300_000,
    ],
)
def test_anything_but_a_literal_dict_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_literal(text)


def test_control_bodies_may_be_wrapped_in_payload() -> None:
    assert parse_control(b'{"payload": {"action": "hello"}}') == {"action": "hello"}
    assert parse_control(b'{"action": "hello"}') == {"action": "hello"}
    with pytest.raises(InvalidInput):
        parse_control(b"\xff\xfe")


def test_unknown_actions_are_refused() -> None:
    assert action_of({"action": "ls"}) == "ls"
    with pytest.raises(InvalidInput):
        action_of({"action": "__class__"})


@pytest.mark.parametrize(
    ("location", "key"),
    [
        ({"key": "job-1"}, "job-1"),
        ({"path": "/hostFS/storeBase/key-job-2/"}, "job-2"),
        ({"path": "/tmp/../x/job-3"}, "job-3"),
        ({"key": "", "path": "job-4"}, "job-4"),
    ],
)
def test_a_location_resolves_to_one_key(location: dict[str, str], key: str) -> None:
    assert resolve_key(location) == key


@pytest.mark.parametrize(
    "location",
    [{"path": "/"}, {"path": "/a/.."}, {"path": "../.."}, {"key": "a/b"}, {"key": ".."}, {}],
)
def test_a_location_that_names_no_single_key_is_refused(location: dict[str, str]) -> None:
    with pytest.raises((InvalidInput, InvalidName)):
        resolve_key(location)
