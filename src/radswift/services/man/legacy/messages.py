"""Legacy pman messages read safely, and a `run` mapped onto the one JobRequest.

A message is `{"action": A, "meta": {...}}`, bare or in `{"payload": ...}` (parsed as
pfioh's legacy shell parses its own: JSON, or a Python literal that is never evaluated).

`run`'s `cmd` is the processor's command line, split as a shell would (quotes, escapes)
but never given to a shell. A ChRIS plugin's command line ends with its directories,
so the job's type follows from its tail, and JobRequest.command() rebuilds exactly the
words that were sent:

    ... /share/incoming /share/outgoing   ds (reads the key's input/)
    ... /share/outgoing                   fs (a key without input/ runs with none)

Any other command line is refused (400): pman would append the directories to it.
The limits arrive as the original took them (`"2000m"`, `"1024Mi"`, `"0"`, `"1"`); the
image is `container.target.image` (the local backend records it and runs on the host).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from radswift.errors import InvalidInput
from radswift.jobmanager import JobRequest
from radswift.jobmanager.request import INCOMING, OUTGOING, PluginType
from radswift.services.ioh.http_errors import summarize_errors
from radswift.services.ioh.legacy.messages import meta_of

ACTIONS = ("hello", "run", "status", "done", "delete", "search", "info", "get")
HOST_IMAGE = "host"
"""The image of a legacy run that names none (the original ran such a `cmd` on its host)."""
MAX_CMD_CHARS = 64 * 1024
SEARCH_KEYS = ("jid", "auid")


def action_of(message: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The message's action (one pman answers) and its meta dictionary."""
    action = message.get("action")
    if action not in ACTIONS:
        raise InvalidInput(
            f"unknown action {str(action)[:40]!r}; known: {', '.join(ACTIONS)}",
            reason="unknown_action",
        )
    return str(action), meta_of(message)


def run_request(meta: Mapping[str, Any]) -> JobRequest:
    """The JobRequest a legacy `run` stands for (InvalidInput, before anything is
    registered, for what it cannot be)."""
    plugin_type, entrypoint = split_command(meta.get("cmd"))
    target = _section(_section(meta, "container"), "target")
    fields: dict[str, Any] = {
        "jid": _jid(meta.get("jid")),
        "auid": _text(meta.get("auid", ""), "auid"),
        "image": _text(target.get("image") or HOST_IMAGE, "container.target.image"),
        "entrypoint": entrypoint,
        "type": plugin_type,
        "cpu_limit": _optional_text(meta.get("cpu_limit"), "cpu_limit"),
        "memory_limit": _optional_text(meta.get("memory_limit"), "memory_limit"),
        "gpu_limit": _count(meta.get("gpu_limit", 0), "gpu_limit"),
        "number_of_workers": _count(meta.get("number_of_workers", 1), "number_of_workers"),
    }
    try:
        return JobRequest(**fields)
    except ValidationError as err:
        raise InvalidInput(summarize_errors(err.errors()), reason="invalid_request") from None


def split_command(cmd: object) -> tuple[PluginType, list[str]]:
    """(type, entrypoint) of a plugin's command line; see the module doc."""
    if not isinstance(cmd, str) or not cmd.strip():
        raise InvalidInput("meta.cmd must be the processor's command line", reason="bad_cmd")
    if len(cmd) > MAX_CMD_CHARS:
        raise InvalidInput("meta.cmd is too long", reason="bad_cmd")
    try:
        words = shlex.split(cmd)
    except ValueError as err:
        raise InvalidInput(f"meta.cmd cannot be split: {err}", reason="bad_cmd") from None
    if words[-2:] == [INCOMING, OUTGOING] and len(words) > 2:
        return "ds", words[:-2]
    if words[-1:] == [OUTGOING] and len(words) > 1:
        return "fs", words[:-1]
    raise InvalidInput(
        f"meta.cmd must end with '{INCOMING} {OUTGOING}' (a ds plugin) or '{OUTGOING}'"
        " (an fs plugin), after the plugin's own words",
        reason="bad_cmd",
    )


def selected_jid(meta: Mapping[str, Any]) -> str:
    """The jid a `status`/`done`/`delete` names: `{"key": "jid", "value": JID}`."""
    if meta.get("key", "jid") != "jid":
        raise InvalidInput("select the job with {'key': 'jid', 'value': JID}", reason="bad_key")
    return _jid(meta.get("value"))


def search_terms(meta: Mapping[str, Any]) -> tuple[str, str]:
    """(field, value) of a `search`/`info`: jid or auid."""
    key = meta.get("key")
    if key not in SEARCH_KEYS:
        raise InvalidInput(f"search by one of: {', '.join(SEARCH_KEYS)}", reason="bad_key")
    return str(key), _text(meta.get("value"), "value")


def _jid(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # the original accepted numeric jids
    if not isinstance(value, str) or not value:
        raise InvalidInput("the job's jid must be a non-empty string", reason="bad_jid")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"meta.{what} must be a string", reason="invalid_request")
    return value


def _optional_text(value: object, what: str) -> str | None:
    return None if value is None else _text(value, what)


def _count(value: object, what: str) -> int:
    """An integer sent as the original's clients send it: 1 or "1"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value) < 10:
        return int(value)
    raise InvalidInput(f"meta.{what} must be a whole number", reason="invalid_request")


def _section(meta: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = meta.get(name, {})
    if not isinstance(value, dict):
        raise InvalidInput(f"meta.{name} must be a dictionary", reason="invalid_request")
    return value
