"""The zip central directory, checked after the stream: where zip hides links and devices.

A streaming reader sees only local headers, and those carry no file mode: the
Unix mode (S_IFLNK for a symlink, devices, fifos) lives in the central directory's
`external_attr`, at the very end of the archive. So the reader records the tail
of the stream (from the end of the last entry on; spilled to a temporary file
past a few MiB) and this module checks it: every entry must be a plain file or a
directory, and the directory must list exactly the entries the local headers
announced, in the same order (an archive whose two indexes disagree is read
differently by different tools: a classic smuggling trick).
"""

from __future__ import annotations

import hashlib
import stat
import struct
from typing import IO

from radswift.errors import InvalidInput, UnsafeArchive

_EOCD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_MAX_COMMENT = 0xFFFF

_FORBIDDEN = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a fifo",
    stat.S_IFSOCK: "a socket",
}


class NameDigest:
    """An order-sensitive digest of entry names, so the two indexes compare in O(1) memory."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def add(self, raw_name: bytes) -> None:
        self._hash.update(len(raw_name).to_bytes(4, "little"))
        self._hash.update(raw_name)
        self.count += 1

    def digest(self) -> bytes:
        return self._hash.digest()


def check_central_directory(
    tail: IO[bytes], tail_len: int, tail_start: int, local: NameDigest
) -> None:
    """Validate the central directory found in `tail` (stream bytes from `tail_start` on)."""
    cd_start, cd_end = _locate(tail, tail_len, tail_start)
    tail.seek(cd_start)
    central = NameDigest()
    position = cd_start
    while position < cd_end:
        fixed = _read_exact(tail, _CENTRAL.size)
        fields = _CENTRAL.unpack(fixed)
        if fields[0] != b"PK\x01\x02":
            raise _corrupt("a central directory record has a bad signature")
        name_len, extra_len, comment_len = fields[10:13]
        external_attr = fields[15]
        raw_name = _read_exact(tail, name_len)
        tail.seek(extra_len + comment_len, 1)
        position += _CENTRAL.size + name_len + extra_len + comment_len
        _check_mode(raw_name, external_attr >> 16)
        central.add(raw_name)
    if central.count != local.count or central.digest() != local.digest():
        raise UnsafeArchive(
            f"the zip central directory lists {central.count} entries that differ from the "
            f"{local.count} entries in the archive's body",
            reason="inconsistent_zip",
        )


def _locate(tail: IO[bytes], tail_len: int, tail_start: int) -> tuple[int, int]:
    """Return (start, end) of the central directory within `tail`."""
    search = min(tail_len, _EOCD.size + _MAX_COMMENT)
    tail.seek(tail_len - search)
    window = tail.read(search)
    pos = window.rfind(b"PK\x05\x06")
    if pos < 0 or len(window) - pos < _EOCD.size:
        raise InvalidInput(
            "truncated archive: the zip has no end of central directory", reason="truncated"
        )
    eocd_at = tail_len - search + pos
    _, _, _, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(window, pos)
    cd_end = eocd_at
    if count == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset):
        cd_end, cd_size, cd_offset = _zip64_directory(tail, eocd_at, tail_start)
    cd_start = cd_offset - tail_start
    if cd_start < 0 or cd_start + cd_size != cd_end:
        raise _corrupt("the zip central directory is not where its end record says")
    return cd_start, cd_end


def _zip64_directory(tail: IO[bytes], eocd_at: int, tail_start: int) -> tuple[int, int, int]:
    locator_at = eocd_at - _ZIP64_LOCATOR.size
    if locator_at < 0:
        raise _corrupt("the zip64 end of central directory locator is missing")
    tail.seek(locator_at)
    signature, _, record_offset, _ = _ZIP64_LOCATOR.unpack(_read_exact(tail, _ZIP64_LOCATOR.size))
    record_at = record_offset - tail_start
    if signature != b"PK\x06\x07" or not 0 <= record_at < locator_at:
        raise _corrupt("the zip64 end of central directory locator is invalid")
    tail.seek(record_at)
    fields = _ZIP64_EOCD.unpack(_read_exact(tail, _ZIP64_EOCD.size))
    if fields[0] != b"PK\x06\x06":
        raise _corrupt("the zip64 end of central directory record is invalid")
    return record_at, fields[8], fields[9]


def _check_mode(raw_name: bytes, mode: int) -> None:
    kind = _FORBIDDEN.get(stat.S_IFMT(mode))
    if kind is not None:
        name = raw_name.decode("utf-8", "replace")
        raise UnsafeArchive(f"entry {name!r} is {kind}, which is not allowed", reason="link_entry")


def _read_exact(tail: IO[bytes], n: int) -> bytes:
    data = tail.read(n)
    if len(data) != n:
        raise InvalidInput(
            "truncated archive: the zip central directory ends early", reason="truncated"
        )
    return data


def _corrupt(what: str) -> InvalidInput:
    return InvalidInput(f"corrupt zip: {what}", reason="corrupt")
