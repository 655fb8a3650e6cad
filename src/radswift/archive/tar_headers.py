"""Tar's special headers checked from their 512-byte block, before tarfile reads them.

tarfile reads a pax (`x`, `g`, Solaris `X`) or GNU long-name/long-link (`L`, `K`)
header's data whole into memory, whatever size its block declares; it follows old GNU
sparse (`S`) extension blocks for as long as each says another follows; it parses pax
headers with regexes that are quadratic in a run of digits on Pythons without the
CVE-2024-6232 fix (and `re` holds the GIL, so even a worker thread stalls the event
loop); it turns malformed GNU sparse pax keys into ValueError; and it follows a chain
of extended headers by recursion. So, before tarfile sees a header's data:
- a special header larger than `ArchiveLimits.max_header_bytes` is refused (413);
  global headers, which tarfile keeps for the whole archive, count together;
- more than MAX_HEADER_CHAIN special headers before one member are refused;
- sparse files are refused (they are anyway: radswift.archive.read_tar), old-style ones
  from their header block, pax-style ones from their `GNU.sparse.*` keys;
- a pax header is checked to be well-formed records ("<len> <key>=<value>\\n", the
  length exact) by a linear scan, then handed back to tarfile to parse.
"""

from __future__ import annotations

import tarfile
from typing import Protocol

from radswift.errors import InvalidInput, UnsafeArchive

MAX_HEADER_CHAIN = 8
"""Special headers allowed in a row (an honest writer uses at most a global, a long
name, a long link and a pax header before a member)."""

_PAX_TYPES = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)
_LONG_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)
_MAX_LENGTH_DIGITS = 20


class Rewindable(Protocol):
    """The forward file under TarFile: it can give back the bytes just read (once)."""

    def read(self, n: int = -1) -> bytes: ...

    def tell(self) -> int: ...

    def unread(self, data: bytes) -> None: ...


class HeaderGuard:
    """The checks above, for one archive; `start_member` resets the chain count."""

    def __init__(self, max_header_bytes: int) -> None:
        self.max_header_bytes = max_header_bytes
        self.chain = 0
        self.global_bytes = 0

    def start_member(self) -> None:
        self.chain = 0

    def check(self, info: tarfile.TarInfo, fileobj: Rewindable) -> None:
        """Refuse `info` (just parsed from its block) if tarfile should not process it."""
        if info.type == tarfile.GNUTYPE_SPARSE:
            raise _sparse(info.name)
        if info.type not in _PAX_TYPES and info.type not in _LONG_TYPES:
            return
        self.chain += 1
        if self.chain > MAX_HEADER_CHAIN:
            raise UnsafeArchive(
                f"more than {MAX_HEADER_CHAIN} extended headers precede one entry",
                reason="bad_header",
            )
        self._check_size(info)
        if info.type in _PAX_TYPES:
            block = fileobj.read(info._block(info.size))  # type: ignore[attr-defined]
            check_pax_records(block[: info.size])
            fileobj.unread(block)

    def _check_size(self, info: tarfile.TarInfo) -> None:
        size = info.size
        if info.type == tarfile.XGLTYPE:
            self.global_bytes += size
            size = self.global_bytes
        if size > self.max_header_bytes:
            raise UnsafeArchive(
                f"a tar extended header of {size} bytes is larger than the limit of "
                f"{self.max_header_bytes} bytes",
                reason="header_too_large",
                too_large=True,
            )


def check_pax_records(data: bytes) -> None:
    """Refuse a pax header that is not well-formed records, or that describes a sparse file.

    Linear in len(data): each record's length is read from its first few bytes and its
    end checked, so tarfile's regexes then only see records whose lengths add up."""
    pos, end = 0, len(data)
    while pos < end:
        if data[pos] == 0 and data.count(b"\0", pos) == end - pos:
            return  # padding some writers leave after the last record
        space = data.find(b" ", pos, pos + _MAX_LENGTH_DIGITS + 1)
        digits = data[pos:space] if space > pos else b""
        if not digits.isdigit():
            raise _bad_pax("a record does not start with its length")
        length = int(digits)
        stop = pos + length
        if length <= len(digits) + 1 or stop > end or data[stop - 1 : stop] != b"\n":
            raise _bad_pax("a record's length does not match its text")
        keyword, equals, _ = data[space + 1 : stop - 1].partition(b"=")
        if not equals or not keyword:
            raise _bad_pax("a record has no keyword")
        if keyword.startswith(b"GNU.sparse."):
            raise _sparse("(pax header)")
        pos = stop


def _bad_pax(why: str) -> InvalidInput:
    return InvalidInput(f"corrupt tar: malformed pax header ({why})", reason="corrupt")


def _sparse(name: str) -> UnsafeArchive:
    return UnsafeArchive(
        f"entry {name!r} is a sparse file, which is not allowed", reason="link_entry"
    )
