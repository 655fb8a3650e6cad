"""Hostile uploads are refused with a message naming the problem, before anything is committed.

Every case checks two things: the error (UnsafeArchive for hostile content,
with too_large for size breaches, i.e. HTTP 413; InvalidInput for truncated or
corrupt archives), and that the offending entry never completed, so a consumer
that commits only at the end of iteration commits nothing.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile

import pytest
from archive_support import (
    FORMATS,
    Consumed,
    UnseekableSink,
    build,
    consume,
    file_entry,
    raw_tar,
    raw_zip,
    tar_member,
)

from radswift.archive import ArchiveLimits, Format, iter_archive, normalize_entry_path
from radswift.errors import InvalidInput, UnsafeArchive

MIB = 1024 * 1024


def refused(got: Consumed, *words: str, too_large: bool = False) -> UnsafeArchive:
    assert isinstance(got.error, UnsafeArchive), got.error
    for word in words:
        assert word in str(got.error)
    assert (got.error.http_status == 413) is too_large
    return got.error


def failed(got: Consumed, *words: str) -> InvalidInput:
    assert isinstance(got.error, InvalidInput), got
    for word in words:
        assert word in str(got.error)
    return got.error


# --- names that escape the target -------------------------------------------------------

ESCAPES = {
    "../x": "'..'",
    "/etc/x": "absolute",
    "a/../../x": "'..'",
    "a/b/../c": "'..'",
    "C:/windows/x": "drive letter",
    "..\\..\\x": "backslash",
}


@pytest.mark.parametrize("name", ESCAPES)
@pytest.mark.parametrize("fmt", ["tar", "zip"])
def test_names_that_escape_the_target_are_refused(name: str, fmt: Format) -> None:
    if fmt == "zip":
        blob = raw_zip([("ok.txt", b"fine"), (name, b"evil")])
    else:
        blob = raw_tar([(tar_member("ok.txt"), b"fine"), (tar_member(name), b"evil")])
    got = consume(blob)
    refused(got, ESCAPES[name])
    assert got.started == ["ok.txt"]
    assert list(got.files) == ["ok.txt"]


def test_nul_in_a_name_is_refused() -> None:
    # tarfile and zipfile both cut names at NUL, so the rule is shown on the checker itself.
    with pytest.raises(UnsafeArchive, match="NUL"):
        normalize_entry_path("a\x00/../b", max_name_bytes=1024)


def test_a_name_longer_than_swift_allows_is_refused() -> None:
    got = consume(raw_zip([("d/" + "x" * 1100, b"")]))
    refused(got, "longer than 1024 bytes")


# --- links, devices, fifos --------------------------------------------------------------

TAR_KINDS = {
    "a symbolic link": tar_member("link", tarfile.SYMTYPE, linkname="/etc/passwd"),
    "a hard link": tar_member("hard", tarfile.LNKTYPE, linkname="ok.txt"),
    "a character device": tar_member("dev", tarfile.CHRTYPE, devmajor=1, devminor=3),
    "a block device": tar_member("blk", tarfile.BLKTYPE),
    "a fifo": tar_member("fifo", tarfile.FIFOTYPE),
}


@pytest.mark.parametrize("kind", TAR_KINDS)
@pytest.mark.parametrize("gz", [False, True])
def test_tar_links_devices_and_fifos_are_refused_by_name(kind: str, gz: bool) -> None:
    member = TAR_KINDS[kind]
    got = consume(raw_tar([(tar_member("ok.txt"), b"fine"), (member, b"")], gz=gz))
    refused(got, repr(member.name), kind)
    assert got.started == ["ok.txt"]


@pytest.mark.parametrize(("mode", "kind"), [(0o120777, "a symbolic link"), (0o010644, "a fifo")])
def test_zip_link_and_special_entries_are_refused_by_name(mode: int, kind: str) -> None:
    link = zipfile.ZipInfo("study/link")
    link.create_system = 3
    link.external_attr = mode << 16
    got = consume(raw_zip([("study/a.dcm", b"fine"), (link, b"/etc/passwd")]))
    refused(got, "'study/link'", kind)
    # zip records modes only in the central directory at the end: the error comes
    # after the entries streamed, but iteration fails, so a consumer commits nothing.


# --- bombs and caps -----------------------------------------------------------------------


def test_a_zip_bomb_is_stopped_by_the_ratio_while_streaming() -> None:
    blob = raw_zip([("zeros.bin", bytes(50 * MIB))])
    assert len(blob) < 100_000
    got = consume(blob)
    refused(got, "expands more than 200 times", too_large=True)
    assert got.files == {}


def test_a_tar_gz_bomb_is_stopped_by_the_ratio_while_streaming() -> None:
    blob = raw_tar([(tar_member("zeros.bin"), bytes(50 * MIB))], gz=True)
    got = consume(blob)
    refused(got, "expands more than 200 times", too_large=True)
    assert got.files == {}


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_a_small_bomb_is_stopped_before_it_expands_200_times_its_whole_size(fmt: Format) -> None:
    """The ratio is judged on the input the decompressor has used, not on what was read
    ahead of it: a 100 KB bomb read in one go used to expand to 200 x 100 KB first."""
    if fmt == "zip":
        blob = raw_zip([("zeros.bin", bytes(100 * MIB))])
    else:
        blob = raw_tar([(tar_member("zeros.bin"), bytes(100 * MIB))], gz=True)
    produced = 0
    with pytest.raises(UnsafeArchive, match="expands more than 200 times"):
        for _entry, chunks in iter_archive(io.BytesIO(blob).read, fmt, ArchiveLimits()):
            for data in chunks or ():
                produced += len(data)
    assert produced < 200 * len(blob) // 4, (produced, len(blob))


def test_a_lower_ratio_limit_is_honoured() -> None:
    # ~30:1 (1 KB of noise, then 30 KB of zeros, 40 times): fine by default, not at 10:1
    data = b"".join(os.urandom(1000) + bytes(30_000) for _ in range(40))
    blob = raw_zip([("thirty.bin", data)])
    assert consume(blob).error is None
    refused(consume(blob, limits=ArchiveLimits(max_ratio=10)), "10 times", too_large=True)


@pytest.mark.parametrize("fmt", FORMATS)
def test_total_size_cap(fmt: Format) -> None:
    blob = build(fmt, [file_entry(f"f{i}", b"x" * 1000) for i in range(5)])
    got = consume(blob, limits=ArchiveLimits(max_total_bytes=3500))
    refused(got, "more than 3500 bytes", too_large=True)
    assert sorted(got.files) == ["f0", "f1", "f2"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_entry_size_cap(fmt: Format) -> None:
    blob = build(fmt, [file_entry("small", b"x"), file_entry("big", b"x" * 5000)])
    got = consume(blob, limits=ArchiveLimits(max_entry_bytes=4096))
    refused(got, "'big' is larger than 4096 bytes", too_large=True)
    assert list(got.files) == ["small"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_entry_count_cap(fmt: Format) -> None:
    blob = build(fmt, [file_entry(f"f{i}", b"") for i in range(11)])
    got = consume(blob, limits=ArchiveLimits(max_entries=10))
    refused(got, "more than 10 entries", too_large=True)
    assert len(got.files) == 10


def test_a_zip_without_declared_sizes_is_capped_while_streaming() -> None:
    # A data-descriptor zip declares nothing up front: only counting the bytes can stop it.
    data = bytes(range(256)) * (20 * 1024)  # 5 MiB
    sink = UnseekableSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("undeclared.bin", data)
    got = consume(bytes(sink.buf), limits=ArchiveLimits(max_entry_bytes=MIB))
    refused(got, "larger than 1048576 bytes", too_large=True)
    assert got.files == {}


def test_a_zip_header_that_understates_the_size_does_not_get_past() -> None:
    blob = bytearray(raw_zip([("liar.bin", bytes(range(256)) * 8192)]))  # 2 MiB
    blob[22:26] = (100).to_bytes(4, "little")  # local header: uncompressed size = 100
    got = consume(bytes(blob))
    failed(got, "'liar.bin' is longer than its declared 100 bytes")
    assert got.files == {}


# --- truncated and corrupt archives --------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("keep", [0.5, 0.98])
def test_a_truncated_archive_is_reported_as_truncated(fmt: Format, keep: float) -> None:
    data = os.urandom(256 * 1024)
    blob = build(fmt, [file_entry("a.bin", data), file_entry("b.bin", data)])
    got = consume(blob[: int(len(blob) * keep)], fmt)
    failed(got, "truncated archive")
    assert "b.bin" not in got.files


def test_a_tar_gz_cut_in_its_trailer_fails_at_the_end() -> None:
    blob = build("tar.gz", [file_entry("a.bin", b"abc")])
    failed(consume(blob[:-3]), "truncated archive", "gzip")


def test_a_tar_cut_exactly_between_members_is_truncated() -> None:
    blob = raw_tar([(tar_member("a"), b"x" * 512), (tar_member("b"), b"y" * 512)])
    cut = blob.index(b"y" * 512) + 512  # end of b's data: no end-of-archive blocks follow
    got = consume(blob[:cut], "tar")
    failed(got, "truncated archive", "end-of-archive")


def test_garbage_after_the_last_tar_member_is_corrupt() -> None:
    blob = raw_tar([(tar_member("a"), b"x" * 512)])
    end = blob.index(b"x" * 512) + 512
    got = consume(blob[:end] + b"\x01" * 1024, "tar")
    failed(got, "corrupt tar")


def test_a_zip_crc_mismatch_is_reported() -> None:
    blob = bytearray(raw_zip([("a.txt", b"hello"), ("b.txt", b"world")], zipfile.ZIP_STORED))
    blob[blob.index(b"world")] ^= 0xFF
    got = consume(bytes(blob))
    failed(got, "CRC mismatch", "'b.txt'")
    assert list(got.files) == ["a.txt"]


def test_a_gzip_crc_mismatch_is_reported() -> None:
    blob = bytearray(raw_tar([(tar_member("a"), b"payload")], gz=True))
    blob[-8] ^= 0xFF  # the gzip trailer's CRC-32
    failed(consume(bytes(blob)), "corrupt gzip data")


def test_corrupt_deflate_data_is_reported() -> None:
    blob = bytearray(raw_zip([("a.txt", bytes(range(256)) * 40)]))
    blob[40:60] = b"\xff" * 20
    failed(consume(bytes(blob)), "corrupt zip")


def test_a_zip_whose_central_directory_disagrees_is_refused() -> None:
    blob = bytearray(raw_zip([("a.txt", b"1"), ("b.txt", b"2")]))
    central = blob.rindex(b"b.txt")
    blob[central : central + 5] = b"c.txt"
    refused(consume(bytes(blob)), "central directory lists 2 entries that differ")


def test_unknown_and_empty_input_is_invalid() -> None:
    failed(consume(b"hello, not an archive" * 30), "unrecognized archive format")
    failed(consume(b""), "empty")
    failed(consume(gzip.compress(b"not a tar" * 100)), "tar")


@pytest.mark.slow
def test_a_bomb_after_much_honest_data_is_still_stopped() -> None:
    honest = os.urandom(8 * MIB)
    # 32 MiB at ~1:1 first: overall, 200 MiB of zeros (~200 KiB) stay far below 200:1
    members = [(tar_member(f"noise{i}"), honest) for i in range(4)]
    members.append((tar_member("zeros.bin"), bytes(200 * MIB)))
    got = consume(raw_tar(members, gz=True))
    refused(got, "expands more than 200 times", too_large=True)
    assert "zeros.bin" not in got.files and len(got.files) == 4


@pytest.mark.parametrize(
    "where", ["before the central directory", "inside it", "in its end record"]
)
def test_a_zip_cut_after_its_entries_is_truncated(where: str) -> None:
    blob = raw_zip([("a.txt", b"a"), ("b.txt", b"b")])
    central = blob.index(b"PK\x01\x02")
    cut = {"before the central directory": central, "inside it": central + 30}.get(where, -5)
    failed(consume(blob[:cut]), "truncated archive")


def test_a_large_central_directory_spilled_to_disk_is_still_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from radswift.archive import read_zip

    monkeypatch.setattr(read_zip, "_SPILL_BYTES", 2048)  # as if the directory were huge
    link = zipfile.ZipInfo("z/link")
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    members: list[tuple[str | zipfile.ZipInfo, bytes]] = [(f"f{i:03}", b"x") for i in range(300)]
    blob = raw_zip([*members, (link, b"/etc")])
    refused(consume(blob), "'z/link' is a symbolic link")
    assert consume(raw_zip(members)).error is None
