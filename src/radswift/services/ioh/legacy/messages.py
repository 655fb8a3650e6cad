"""Parsing legacy messages safely: JSON, or a Python literal (never evaluated)."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from radswift.errors import InvalidInput
from radswift.names import validate_key

MAX_MESSAGE_BYTES = 16 * 1024
"""pfurl's messages are a few hundred bytes. The cap bounds the parse, which holds the GIL
(a worker thread would not spare the event loop): ast.literal_eval took 20 ms for 16 KiB
and 300 ms for 256 KiB on the 2-core test machine."""
MAX_MESSAGE_DEPTH = 32
"""pfurl's messages nest 4 deep. A message nested near the recursion limit parsed, and then
its echo (hello's echoBack) could not be encoded: a 500."""
ACTIONS = ("hello", "pushPath", "pullPath", "ls", "rmtree", "internalctl")


def parse_literal(text: str) -> dict[str, Any]:
    """A dict from JSON or from a Python literal repr (what pfurl puts in `meta=`).

    `ast.literal_eval` only builds literals (no names, calls or attributes); its size is
    capped first, and what either parser raises on hostile input (nesting deeper than
    the interpreter's recursion limit, memory) becomes InvalidInput."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise InvalidInput("the legacy message is too large", reason="bad_message", too_large=True)
    try:
        value = _parse(text)
    except (RecursionError, MemoryError):
        raise InvalidInput(
            "the legacy message is nested too deeply", reason="bad_message"
        ) from None
    if not isinstance(value, dict):
        raise InvalidInput("the legacy message is not a dictionary", reason="bad_message")
    if _depth(value) > MAX_MESSAGE_DEPTH:
        raise InvalidInput("the legacy message is nested too deeply", reason="bad_message")
    return value


def _depth(value: Any) -> int:
    """How deeply containers nest in `value` (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list | tuple | set):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError) as exc:
        if "too many nested" in str(exc):
            raise RecursionError from None
        raise InvalidInput(
            "the legacy message is neither JSON nor a Python literal", reason="bad_message"
        ) from None


def parse_control(body: bytes) -> dict[str, Any]:
    """A control-mode POST body: `{"payload": MSG}` or a bare MSG."""
    try:
        message = parse_literal(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput("the legacy message is not UTF-8", reason="bad_message") from None
    payload = message.get("payload")
    return payload if isinstance(payload, dict) else message


def action_of(message: Mapping[str, Any]) -> str:
    action = message.get("action")
    if action not in ACTIONS:
        raise InvalidInput(
            f"unknown action {str(action)[:40]!r}; known: {', '.join(ACTIONS)}",
            reason="unknown_action",
        )
    return str(action)


def meta_of(message: Mapping[str, Any]) -> dict[str, Any]:
    meta = message.get("meta", {})
    if not isinstance(meta, dict):
        raise InvalidInput("the message's meta is not a dictionary", reason="bad_message")
    return meta


def section(meta: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = meta.get(name, {})
    return value if isinstance(value, dict) else {}


def resolve_key(location: Mapping[str, Any], fallback: str | None = None) -> str:
    """The key a legacy location names: its `key`, else the last component of its `path`
    (the original stored keys as `<storeBase>/key-<key>`, so a `key-` prefix is dropped),
    else `fallback`. Always one validated container name: never a path."""
    key = location.get("key")
    if isinstance(key, str) and key:
        return validate_key(key)
    path = location.get("path")
    if isinstance(path, str) and path.strip("/"):
        last = PurePosixPath(path.rstrip("/")).name
        if last.startswith("key-") and len(last) > 4:
            last = last[4:]
        return validate_key(last)
    if fallback:
        return resolve_key({"path": fallback})
    raise InvalidInput("the message names no remote key", reason="no_key")
