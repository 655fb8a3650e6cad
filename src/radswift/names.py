"""Keys (Swift containers) and object names: what Swift accepts, checked before any request.

A job key names a container; `input/` and `output/` are prefixes in it. Large
objects keep their segments in the sibling container `<key>_segments` (the swift
CLI's convention, so any Swift client can read what radswift wrote); that is why a
key may not itself end in `_segments` and is 9 bytes shorter than Swift's limit.

The key alphabet is deliberately narrower than Swift's (any UTF-8 but '/'): ASCII
letters, digits, '.', '_' and '-', starting with a letter or digit. ChRIS job ids
(`chris-jid-42`) and every key radswift makes fit it, and a key travels where Swift's
alphabet breaks things: URL paths (no percent-encoding needed), HTTP headers (a
download's Content-Disposition file name: non-Latin-1 made every archive pull a 500, a
quote injected a parameter, CR/LF split the header), directory names of the local store,
Kubernetes label values, and shell and log lines (no spaces, quotes, control characters
or leading '-'). A container named otherwise by another Swift client cannot be a key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from radswift.errors import InvalidName, NotFound

MAX_CONTAINER_NAME_BYTES = 256
MAX_OBJECT_NAME_BYTES = 1024
SEGMENTS_SUFFIX = "_segments"
MAX_KEY_BYTES = MAX_CONTAINER_NAME_BYTES - len(SEGMENTS_SUFFIX)

INPUT_PREFIX = "input/"
OUTPUT_PREFIX = "output/"


_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def validate_key(key: str) -> str:
    """Return `key` if it can name a job's container, else raise InvalidName saying why."""
    if not key:
        raise InvalidName("the key is empty")
    if "/" in key:
        raise InvalidName(f"the key {key[:80]!r} contains '/', which Swift container names cannot")
    if not _KEY.fullmatch(key):
        raise InvalidName(
            f"the key {key[:80]!r} may hold only ASCII letters, digits, '.', "
            "'_' and '-', and must start with a letter or digit"
        )
    if key.endswith(SEGMENTS_SUFFIX):
        raise InvalidName(
            f"the key {key!r} ends in {SEGMENTS_SUFFIX!r}, "
            "which radswift keeps for large-object segments"
        )
    if len(key) > MAX_KEY_BYTES:
        raise InvalidName(f"the key is longer than {MAX_KEY_BYTES} characters")
    return key


def validate_object_name(name: str) -> str:
    """Return `name` if Swift can store an object under it, else raise InvalidName."""
    if not name:
        raise InvalidName("the object name is empty")
    _check_text(name, "object name")
    if len(name.encode("utf-8")) > MAX_OBJECT_NAME_BYTES:
        raise InvalidName(
            f"the object name {name[:60]!r}... is longer than "
            f"{MAX_OBJECT_NAME_BYTES} bytes of UTF-8"
        )
    return name


def validate_prefix(prefix: str) -> str:
    """A listing/transfer prefix: empty, or a valid object name (usually ending in '/')."""
    if prefix == "":
        return prefix
    return validate_object_name(prefix)


def segments_container(key: str) -> str:
    """The container that holds the segments of the key's large objects."""
    return key + SEGMENTS_SUFFIX


def _check_text(value: str, what: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidName(f"the {what} {value!r} is not valid UTF-8") from None
    if "\x00" in value:
        raise InvalidName(f"the {what} {value!r} contains a NUL character")


def area_counts(names: Iterable[str]) -> dict[str, int]:
    """Objects per top-level area of a key ("input/", "output/", any "NAME/"), by name."""
    counts: dict[str, int] = {}
    for name in names:
        head, slash, _ = name.partition("/")
        area = head + slash
        counts[area] = counts.get(area, 0) + 1
    return counts


def empty_area_error(key: str, area: str, where: str, names: Iterable[str], hint: str) -> NotFound:
    """NotFound for a download of an area holding nothing, naming what the key does hold.

    An empty download that exits 0 looks like success (the user pulled output/ of a key
    whose job never ran); `hint` says how to ask for another area or accept an empty one."""
    counts = area_counts(names)
    held = ", ".join(f"{a} ({n} object{'' if n == 1 else 's'})" for a, n in counts.items())
    found = f"it has {held}" if held else "the key is empty"
    return NotFound(
        f"the key {key!r} on {where} has no {area} ({found}); {hint}", reason="empty_area"
    )
