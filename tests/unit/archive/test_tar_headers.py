"""Tar's special headers (pax x/g, GNU long names L/K, sparse maps) are capped before they
are read: tarfile reads each of them whole into memory, and parses pax headers with a
regex that is quadratic on Pythons without the CVE-2024-6232 fix (3.11.7 here). So their
sizes are checked from the 512-byte header block, before one byte of their data is taken
from the stream, and whatever tarfile cannot parse safely is refused as a 4xx.
"""

from __future__ import annotations

import io
import tarfile

import pytest
from archive_support import build, consume, file_entry, raw_tar, tar_member

from radswift.archive import ArchiveLimits, iter_archive
from radswift.archive.limits import DEFAULT_MAX_HEADER_BYTES
from radswift.errors import InvalidInput, UnsafeArchive

MIB = 1024 * 1024
HUGE = 32 * MIB  # what a hostile header declares; never read


def header_block(name: str, kind: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, size
    return info.tobuf(tarfile.USTAR_FORMAT)


def pax_record(keyword: str, value: bytes) -> bytes:
    body = b" " + keyword.encode() + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length = len(str(length)) + len(body)
    return str(length).encode() + body


def special(kind: bytes, data: bytes) -> bytes:
    """One special header with its data, padded to the block size."""
    return header_block("././@Special", kind, len(data)) + data + bytes(-len(data) % 512)


def a_file(name: str = "after.txt", data: bytes = b"payload") -> bytes:
    return header_block(name, tarfile.REGTYPE, len(data)) + data + bytes(-len(data) % 512)


END = bytes(1024)


class CountingStream:
    """A tar stream whose tail is `tail_size` zero bytes made on demand; counts what is read."""

    def __init__(self, head: bytes, tail_size: int) -> None:
        self.head, self.tail_size, self.consumed = head, tail_size, 0

    def read(self, n: int) -> bytes:
        left = len(self.head) + self.tail_size - self.consumed
        n = min(n, left)
        start, self.consumed = self.consumed, self.consumed + n
        if start >= len(self.head):
            return bytes(n)
        part = self.head[start : start + n]
        return part + bytes(n - len(part))


def read_all(stream: CountingStream, limits: ArchiveLimits | None = None) -> list[str]:
    names = []
    for entry, chunks in iter_archive(stream, "tar", limits or ArchiveLimits()):
        names.append(entry.path)
        for _ in chunks or ():
            pass
    return names


@pytest.mark.parametrize(
    "kind",
    [
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
    ],
    ids=["pax-x", "pax-g", "solaris-X", "gnu-L", "gnu-K"],
)
def test_a_huge_special_header_is_refused_before_its_data_is_read(kind: bytes) -> None:
    stream = CountingStream(header_block("././@Special", kind, HUGE), HUGE + 4096)
    with pytest.raises(UnsafeArchive) as caught:
        read_all(stream)
    assert caught.value.http_status == 413
    assert caught.value.reason == "header_too_large"
    assert stream.consumed < 1 * MIB, f"{stream.consumed} bytes read before refusing"


def test_the_header_cap_is_configurable() -> None:
    name = "n/" * 450 + "x"  # a 901-byte GNU long name
    blob = special(tarfile.GNUTYPE_LONGNAME, name.encode() + b"\0") + a_file("x") + END
    assert consume(blob, "tar", ArchiveLimits(max_header_bytes=4096)).error is None
    got = consume(blob, "tar", ArchiveLimits(max_header_bytes=512))
    assert isinstance(got.error, UnsafeArchive)
    assert got.error.reason == "header_too_large"


def test_the_default_cap_is_small_enough_for_the_quadratic_pax_regex() -> None:
    """CVE-2024-6232: tarfile's hdrcharset search is quadratic in a run of digits; measured
    here (bench/pax_header_stall.py) 17 ms at 4 KiB, 66 ms at 8 KiB, 4.8 s at 64 KiB."""
    assert DEFAULT_MAX_HEADER_BYTES <= 4096


def test_a_header_of_digits_over_the_cap_is_refused_unread() -> None:
    digits = b"1" * (DEFAULT_MAX_HEADER_BYTES + 512)
    stream = CountingStream(special(tarfile.XHDTYPE, digits) + a_file() + END, 0)
    with pytest.raises(UnsafeArchive, match="header"):
        read_all(stream)
    assert stream.consumed <= 512 + 2 * 1024 * 1024  # the header block (and one read-ahead)


def test_a_pax_header_that_is_not_records_is_corrupt() -> None:
    blob = special(tarfile.XHDTYPE, b"1" * 1000) + a_file() + END
    got = consume(blob, "tar")
    assert isinstance(got.error, InvalidInput)
    assert not isinstance(got.error, UnsafeArchive)
    assert "pax" in str(got.error)
    assert got.complete == []


def test_global_headers_together_are_capped() -> None:
    """Each global header updates one dict kept for the whole archive."""
    parts = []
    for i in range(40):
        record = pax_record(f"comment{i}", b"v" * 200)
        parts.append(special(tarfile.XGLTYPE, record) + a_file(f"f{i}"))
    got = consume(b"".join(parts) + END, "tar")
    assert isinstance(got.error, UnsafeArchive)
    assert got.error.reason == "header_too_large"


def test_a_long_chain_of_extended_headers_is_refused_not_a_recursion_error() -> None:
    chain = special(tarfile.XHDTYPE, pax_record("comment", b"x")) * 3000
    got = consume(chain + a_file() + END, "tar")
    assert isinstance(got.error, UnsafeArchive), got.error
    assert got.error.reason == "bad_header"


SPARSE_PAX = {
    "0.0 (regex)": pax_record("GNU.sparse.size", b"1") + pax_record("GNU.sparse.offset", b"0"),
    "0.1 malformed map": pax_record("GNU.sparse.map", b"1,x,,")
    + pax_record("GNU.sparse.size", b"1"),
    "1.0 endless map": pax_record("GNU.sparse.major", b"1")
    + pax_record("GNU.sparse.minor", b"0")
    + pax_record("GNU.sparse.realsize", b"1"),
}


@pytest.mark.parametrize("case", sorted(SPARSE_PAX))
def test_gnu_sparse_pax_headers_are_refused_before_tarfile_parses_them(case: str) -> None:
    """Malformed ones raised ValueError (a 500); a 1.0 map of 10^9 fields read the stream."""
    data = b"999999999\n" + b"1\n" * 200
    blob = special(tarfile.XHDTYPE, SPARSE_PAX[case]) + a_file("s", data) + END
    got = consume(blob, "tar")
    assert isinstance(got.error, UnsafeArchive), got.error
    assert "sparse" in str(got.error)
    assert got.complete == []


def test_an_old_gnu_sparse_header_is_refused_before_its_extension_blocks() -> None:
    """Type 'S' chains 512-byte extension blocks for as long as each says 'more follow'."""
    info = tarfile.TarInfo("sparse")
    info.type, info.size = tarfile.GNUTYPE_SPARSE, 0
    block = bytearray(info.tobuf(tarfile.GNU_FORMAT))
    block[482] = 1  # isextended
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)  # the checksum again
    extension = bytes(504) + b"\x01" + bytes(7)  # ...and every extension says so again
    stream = CountingStream(bytes(block), 0)
    stream.head += extension * 4000
    with pytest.raises(UnsafeArchive, match="sparse"):
        read_all(stream)
    assert stream.consumed < 1 * MIB


def test_honest_archives_stay_within_the_cap() -> None:
    """Our own writer's pax headers (long non-ASCII names, up to Swift's 1024 bytes) and
    tarfile's GNU long names pass with the default limits."""
    name = "患者/" * 100 + "x" * 100
    ours = build("tar", [file_entry(name, b"data")])
    assert consume(ours, "tar").files == {name: b"data"}
    gnu = io.BytesIO()
    with tarfile.open(fileobj=gnu, mode="w", format=tarfile.GNU_FORMAT) as tar:
        long_name = "d/" * 400 + "f"
        tar.addfile(tar_member(long_name, size=3), io.BytesIO(b"abc"))
    assert consume(gnu.getvalue(), "tar").files == {long_name: b"abc"}
    git_style = special(tarfile.XGLTYPE, pax_record("comment", b"0" * 40)) + a_file() + END
    assert consume(git_style, "tar").files == {"after.txt": b"payload"}


def test_a_non_ascii_name_in_a_pax_header_written_by_tarfile_passes() -> None:
    blob = raw_tar([(tar_member("é" * 10), b"z")])
    assert consume(blob, "tar").files == {"é" * 10: b"z"}


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e300", "-5"])
def test_a_pax_mtime_that_is_no_time_is_dropped(value: str) -> None:
    """An infinite or NaN mtime reached the bundle writer's int() (a 500)."""
    blob = special(tarfile.XHDTYPE, pax_record("mtime", value.encode())) + a_file() + END
    entries = [
        (entry, b"".join(chunks or ()))
        for entry, chunks in iter_archive(io.BytesIO(blob), "tar", ArchiveLimits())
    ]
    assert [(e.path, e.mtime, data) for e, data in entries] == [("after.txt", None, b"payload")]
