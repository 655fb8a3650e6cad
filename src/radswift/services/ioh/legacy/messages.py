"""Parsing legacy messages safely: JSON, or a Python literal (never evaluated)."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from radswift.errors import InvalidInput
from radswift.names import validate_key

MAX_MESSAGE_BYTES = 256 * 1024
ACTIONS = ("hello", "pushPath", "pullPath", "ls", "rmtree", "internalctl")


def parse_literal(text: str) -> dict[str, Any]:
    """A dict from JSON or from a Python literal repr (what pfurl puts in `meta=`).

    `ast.literal_eval` only builds literals (no names, calls or attributes); its size is
    capped first and its recursion/memory errors become InvalidInput."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise InvalidInput("the legacy message is too large", reason="bad_message")
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise InvalidInput(
                "the legacy message is neither JSON nor a Python literal", reason="bad_message"
            ) from None
    if not isinstance(value, dict):
        raise InvalidInput("the legacy message is not a dictionary", reason="bad_message")
    return value


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
