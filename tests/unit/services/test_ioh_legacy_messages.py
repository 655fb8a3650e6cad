"""Legacy message parsing: JSON or a Python literal, never evaluated; keys never paths."""

from __future__ import annotations

import urllib.parse

import pytest

from radswift.errors import InvalidInput, InvalidName
from radswift.services.ioh.legacy.messages import (
    MAX_MESSAGE_BYTES,
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


@pytest.mark.parametrize("depth", [2_000, 50_000])
@pytest.mark.parametrize("opener", ["[", '{"a": '])
def test_a_deeply_nested_message_is_invalid_input_not_a_recursion_error(
    depth: int, opener: str
) -> None:
    closer = "]" if opener == "[" else "}"
    text = '{"meta": ' + opener * depth + "1" + closer * depth + "}"
    with pytest.raises(InvalidInput, match="nested"):
        parse_literal(text[:MAX_MESSAGE_BYTES])
    with pytest.raises(InvalidInput):
        parse_control(text.encode()[:MAX_MESSAGE_BYTES])


def test_a_message_nested_past_32_levels_is_refused_even_if_it_parses() -> None:
    """A 960-deep echoBack parsed, then its reply could not be encoded (a 500)."""
    shallow = '{"meta": ' + "[" * 30 + "]" * 30 + "}"
    assert parse_literal(shallow)
    with pytest.raises(InvalidInput, match="nested too deeply"):
        parse_literal('{"meta": ' + "[" * 960 + "]" * 960 + "}")
