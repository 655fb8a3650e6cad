"""What goes in comes out: radswift's writers and iter_archive agree, and so do other tools."""

from __future__ import annotations

import io
import os
import struct
import tarfile
import zipfile

import pytest
from archive_support import (
    FORMATS,
    ChunkReader,
    UnseekableSink,
    build,
    consume,
    dir_entry,
    file_entry,
    raw_tar,
    raw_zip,
    tar_member,
)

from radswift.archive import ArchiveLimits, Format, OutEntry, iter_archive, tar_stream, zip_stream
from radswift.errors import IntegrityError, InvalidInput, UnsafeArchive

BIG = os.urandom(2 * 1024 * 1024 + 12345)  # spans several 1 MiB chunks
TREE = {
    "study/series1/IM0001.dcm": os.urandom(4096),
    "study/series1/IM0002.dcm": b"",
    "study/séries-été/画像.dcm": b"non-ASCII names survive",
    "nifti/brain.nii": BIG,
    "a/" + "long-component-" * 20 + "/x.txt": b"a name beyond ustar's 100+155 bytes",
}
EMPTY_DIRS = ["empty", "nested/empty/dir"]


def tree_entries() -> list[OutEntry]:
    return [*(file_entry(p, d) for p, d in TREE.items()), *(dir_entry(d) for d in EMPTY_DIRS)]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("declared", [True, False], ids=["explicit-format", "auto-format"])
def test_round_trip_keeps_files_empty_files_empty_dirs_and_unicode_names(
    fmt: Format, declared: bool
) -> None:
    got = consume(build(fmt, tree_entries()), fmt if declared else "auto")
    assert got.error is None
    assert got.files == TREE
    assert got.dirs == EMPTY_DIRS


@pytest.mark.parametrize("fmt", ["tar", "tar.gz"])
def test_tar_entries_carry_size_and_mtime(fmt: Format) -> None:
    blob = build(fmt, [file_entry("x.dcm", b"12345", mtime=1_650_000_000.0)])
    entries = [entry for entry, _ in iter_archive(io.BytesIO(blob), fmt, ArchiveLimits())]
    assert [(e.path, e.size, e.mtime, e.is_dir) for e in entries] == [
        ("x.dcm", 5, 1_650_000_000.0, False)
    ]


def test_our_zip_is_zip64_and_readable_by_pythons_zipfile() -> None:
    blob = build("zip", tree_entries())
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        assert archive.testzip() is None
        assert archive.read("nifti/brain.nii") == BIG
        info = archive.getinfo("study/series1/IM0001.dcm")
        assert info.external_attr >> 16 == 0o100644
        # every member carries the ZIP64 extra field (header id 0x0001)
        assert 0x0001 in _extra_ids(info.extra)
        assert 0x0001 in _extra_ids(archive.getinfo("nifti/brain.nii").extra)


def _extra_ids(extra: bytes) -> set[int]:
    ids, offset = set(), 0
    while offset + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, offset)
        ids.add(header_id)
        offset += 4 + size
    return ids


@pytest.mark.parametrize("gz", [False, True])
def test_our_tar_is_readable_by_pythons_tarfile(gz: bool) -> None:
    blob = build("tar.gz" if gz else "tar", tree_entries())
    assert len(blob) % tarfile.RECORDSIZE == 0 or gz
    with tarfile.open(fileobj=io.BytesIO(blob)) as archive:
        names = archive.getnames()
        member = archive.extractfile("nifti/brain.nii")
        assert member is not None and member.read() == BIG
    assert "study/séries-été/画像.dcm" in names and "nested/empty/dir" in names


def test_compressed_zip_round_trips() -> None:
    entries = [file_entry("zeros.bin", bytes(100_000)), file_entry("r.bin", BIG)]
    blob = b"".join(zip_stream(entries, compress=True))
    assert len(blob) < len(BIG) + 10_000
    assert consume(blob).files == {"zeros.bin": bytes(100_000), "r.bin": BIG}


def test_zip_with_data_descriptors_from_a_streaming_writer_is_read() -> None:
    sink = UnseekableSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("dd/a.txt", b"hello " * 1000)
    got = consume(bytes(sink.buf), "zip")
    assert got.error is None and got.files == {"dd/a.txt": b"hello " * 1000}


def test_harmless_name_noise_is_normalized() -> None:
    blob = raw_tar(
        [
            (tar_member("./", tarfile.DIRTYPE), b""),
            (tar_member("./study/", tarfile.DIRTYPE), b""),
            (tar_member("./study//a.dcm"), b"x"),
        ]
    )
    got = consume(blob)
    assert got.error is None
    assert got.dirs == ["study"] and got.files == {"study/a.dcm": b"x"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_entry_left_unread_is_drained_before_the_next(fmt: Format) -> None:
    blob = build(fmt, [file_entry("big.bin", BIG), file_entry("small.txt", b"after")])
    seen = {}
    for entry, chunks in iter_archive(io.BytesIO(blob), fmt, ArchiveLimits()):
        assert chunks is not None
        seen[entry.path] = next(iter(chunks))[:5] if entry.path == "big.bin" else b"".join(chunks)
    assert seen == {"big.bin": BIG[:5], "small.txt": b"after"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_input_may_be_a_read_callable_fed_by_a_generator(fmt: Format) -> None:
    blob = build(fmt, tree_entries())
    pieces = (blob[i : i + 7777] for i in range(0, len(blob), 7777))
    entries = iter_archive(ChunkReader(pieces).read, "auto", ArchiveLimits())
    files = {e.path: b"".join(c) for e, c in entries if c is not None}
    assert files == TREE


@pytest.mark.parametrize("fmt", ["zip", "tar"])
def test_duplicate_entries_are_refused(fmt: Format) -> None:
    if fmt == "zip":
        blob = raw_zip([("a/x.dcm", b"1"), ("a/x.dcm", b"2")])
    else:
        blob = raw_tar([(tar_member("a/x.dcm"), b"1"), (tar_member("a/x.dcm"), b"2")])
    got = consume(blob)
    assert isinstance(got.error, UnsafeArchive) and "twice" in str(got.error)
    assert got.files == {"a/x.dcm": b"1"}


def test_a_file_that_is_also_a_directory_is_refused() -> None:
    got = consume(raw_zip([("a", b"file"), ("a/b", b"under a file")]))
    assert isinstance(got.error, UnsafeArchive) and "which is a file" in str(got.error)


def test_repeated_directory_entries_are_fine() -> None:
    blob = raw_tar(
        [(tar_member("d", tarfile.DIRTYPE), b""), (tar_member("d", tarfile.DIRTYPE), b"")]
    )
    assert consume(blob).error is None


def test_writers_refuse_a_source_that_lies_about_its_size() -> None:
    liar = OutEntry(path="x", size=10, mtime=0.0, chunks=lambda: [b"12345"])
    with pytest.raises(IntegrityError, match="yielded 5 bytes where 10"):
        b"".join(tar_stream([liar]))
    with pytest.raises(IntegrityError, match="yielded 5 bytes where 10"):
        b"".join(zip_stream([liar]))


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../x", ""])
def test_writers_refuse_unsafe_names(name: str) -> None:
    with pytest.raises(InvalidInput):
        b"".join(zip_stream([file_entry(name, b"x")]))
    with pytest.raises(InvalidInput):
        b"".join(tar_stream([file_entry(name, b"x")]))


@pytest.mark.slow
def test_zip_beyond_65535_entries_round_trips() -> None:
    count = 65_600
    entries = (file_entry(f"d{i // 1000}/f{i}", b"") for i in range(count))
    blob = build("zip", entries)
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        assert len(archive.infolist()) == count
    got = consume(blob)
    assert got.error is None and len(got.files) == count


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_archive_yields_nothing(fmt: Format) -> None:
    got = consume(build(fmt, []), "auto")
    assert got.error is None and got.started == []


def test_gnu_long_names_are_read() -> None:
    name = "study/" + "n" * 300 + ".dcm"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as archive:
        info = tarfile.TarInfo(name)
        info.size = 3
        archive.addfile(info, io.BytesIO(b"abc"))
    assert consume(buf.getvalue()).files == {name: b"abc"}


def test_zip_sizes_deferred_to_a_data_descriptor_are_none() -> None:
    sink = UnseekableSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("later.txt", b"x" * 100)
    entries = list(iter_archive(io.BytesIO(bytes(sink.buf)), "zip", ArchiveLimits()))
    assert [(e.path, e.size) for e, _ in entries] == [("later.txt", None)]
