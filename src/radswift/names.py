"""Keys (Swift containers) and object names: what Swift accepts, checked before any request.

A job key names a container; `input/` and `output/` are prefixes in it. Large
objects keep their segments in the sibling container `<key>_segments` (the swift
CLI's convention, so any Swift client can read what radswift wrote); that is why a
key may not itself end in `_segments` and is 9 bytes shorter than Swift's limit.
"""

from __future__ import annotations

from radswift.errors import InvalidName

MAX_CONTAINER_NAME_BYTES = 256
MAX_OBJECT_NAME_BYTES = 1024
SEGMENTS_SUFFIX = "_segments"
MAX_KEY_BYTES = MAX_CONTAINER_NAME_BYTES - len(SEGMENTS_SUFFIX)

INPUT_PREFIX = "input/"
OUTPUT_PREFIX = "output/"


def validate_key(key: str) -> str:
    """Return `key` if it can name a job's container, else raise InvalidName saying why."""
    if not key:
        raise InvalidName("the key is empty")
    if "/" in key:
        raise InvalidName(f"the key {key!r} contains '/', which Swift container names cannot")
    if key in (".", ".."):
        raise InvalidName(f"the key {key!r} is not allowed")
    if key.endswith(SEGMENTS_SUFFIX):
        raise InvalidName(
            f"the key {key!r} ends in {SEGMENTS_SUFFIX!r}, "
            "which radswift keeps for large-object segments"
        )
    _check_text(key, "key")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidName(f"the key is longer than {MAX_KEY_BYTES} bytes of UTF-8")
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
