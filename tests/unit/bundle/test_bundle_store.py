"""write_bundle / iter_bundle / unpack_bundle against the local-directory store.

Swift is not the point here (tests/integration/test_publisher_bundle.py runs the same
against the real local Swift): the layout contract of radswift.bundle is. One object
`<area>/.radswift-bundle.tar` (an SLO when bigger than a segment), whole or nothing,
file count and bytes in its metadata; unpacking is whole or nothing too.
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import pytest

import trees
from radswift.bundle import BYTES_META, FILES_META, bundle_object
from radswift.bundle.read import iter_bundle, unpack_bundle
from radswift.bundle.write import write_bundle
from radswift.errors import IntegrityError, InvalidInput, TransferError, UnsafeArchive
from radswift.names import segments_container
from radswift.store.base import ObjectInfo
from radswift.store.local import LocalStore
from trees import tree_of

KEY = "study-1"
NAME = bundle_object("output/")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    local = LocalStore(tmp_path / "store")
    yield local
    local.close()


MTIME = 1_600_000_000
make_tree = partial(trees.make_tree, mtime=MTIME)
"""Every file of a tree made here has one known mtime (the bundle keeps mtimes)."""


FILES = {
    "a/one.dcm": os.urandom(5000),
    "a/b/two.dcm": b"2" * 700,
    "é/名前.txt": b"unicode",
    "zero.bin": b"",
}


def test_a_tree_becomes_one_tar_object_with_its_counts_in_metadata(
    store: LocalStore, tmp_path: Path
) -> None:
    src = make_tree(tmp_path / "src", FILES, ("void",))
    result = write_bundle(store, KEY, "output/", src, segment_size=1 << 20)
    assert (result.name, result.files, result.dirs, result.segments) == (NAME, 4, 1, 0)
    info = store.head_object(KEY, NAME)
    assert info.size == result.size and not info.large
    assert info.metadata[FILES_META] == "4"
    assert info.metadata[BYTES_META] == str(sum(len(d) for d in FILES.values()))
    assert [i.name for i in store.list_objects(KEY)] == [NAME]
    with store.open_object(KEY, NAME) as reader:
        data = b"".join(reader.iter_chunks())
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert sorted(tar.getnames()) == sorted([*FILES, "void"])


def test_unpacking_gives_back_the_tree_byte_for_byte_with_mtimes(
    store: LocalStore, tmp_path: Path
) -> None:
    src = make_tree(tmp_path / "src", FILES, ("void", "x/y/z"))
    write_bundle(store, KEY, "output/", src, segment_size=1 << 20)
    dest = tmp_path / "dest"
    result = unpack_bundle(store, KEY, NAME, dest)
    assert tree_of(dest) == tree_of(src)
    assert sorted(result.files) == sorted(FILES) and result.bytes == 5000 + 700 + 7
    assert (dest / "a/one.dcm").stat().st_mtime == MTIME


def test_iter_bundle_yields_the_entries_as_the_archive_reader_does(
    store: LocalStore, tmp_path: Path
) -> None:
    write_bundle(store, KEY, "output/", make_tree(tmp_path / "src", FILES), segment_size=1 << 20)
    seen = {
        entry.path: b"".join(chunks) if chunks is not None else None
        for entry, chunks in iter_bundle(store, KEY, NAME)
    }
    assert seen == FILES


def test_a_bundle_bigger_than_a_segment_is_a_large_object_read_back_whole(
    store: LocalStore, tmp_path: Path
) -> None:
    files = {f"s/{i:03d}.dcm": os.urandom(3000 + i) for i in range(20)}
    src = make_tree(tmp_path / "src", files)
    result = write_bundle(store, KEY, "output/", src, segment_size=8192)
    info = store.head_object(KEY, NAME)
    assert info.large and result.segments == -(-result.size // 8192)
    assert len(list(store.list_objects(segments_container(KEY)))) == result.segments
    unpack_bundle(store, KEY, NAME, tmp_path / "dest")
    assert tree_of(tmp_path / "dest") == files


def test_replacing_a_segmented_bundle_leaves_no_old_segments(
    store: LocalStore, tmp_path: Path
) -> None:
    big = make_tree(tmp_path / "big", {"f.dcm": os.urandom(40_000)})
    write_bundle(store, KEY, "output/", big, segment_size=16_384)
    assert store.head_object(KEY, NAME).large
    small = make_tree(tmp_path / "small", {"g.dcm": b"g"})  # a tar of 10 KiB: one object
    write_bundle(store, KEY, "output/", small, segment_size=16_384)
    assert not store.head_object(KEY, NAME).large
    assert list(store.list_objects(segments_container(KEY))) == []


def test_links_and_special_files_are_skipped_and_reported(
    store: LocalStore, tmp_path: Path
) -> None:
    src = make_tree(tmp_path / "src", {"real.dcm": b"r"})
    (src / "link.dcm").symlink_to(src / "real.dcm")
    os.mkfifo(src / "pipe")
    result = write_bundle(store, KEY, "output/", src, segment_size=1 << 20)
    assert result.files == 1
    assert sorted(path for path, _ in result.ignored) == ["link.dcm", "pipe"]
    assert [e.path for e, _ in iter_bundle(store, KEY, NAME)] == ["real.dcm"]


def test_an_entry_that_cannot_be_read_stores_no_bundle(store: LocalStore, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src", {"ok.dcm": b"o"})
    (src / "dangling.dcm").symlink_to(tmp_path / "nowhere")  # followed: it cannot be read
    with pytest.raises(TransferError, match="no bundle was stored") as caught:
        write_bundle(store, KEY, "output/", src, segment_size=1 << 20, follow_symlinks=True)
    assert [path for path, _ in caught.value.failures] == ["dangling.dcm"]
    assert not store.container_exists(KEY)  # nothing was even attempted


class LocalStoreWithABusyWriter(LocalStore):
    """The real local store, plus a processor still appending to a file as the put starts."""

    victim: Path

    def put_object(
        self, container: str, name: str, body: BinaryIO, size: int, **options: Any
    ) -> ObjectInfo:
        with self.victim.open("ab") as out:
            out.write(b"late line\n")
        return super().put_object(container, name, body, size, **options)


def test_a_file_growing_during_the_write_fails_it_and_stores_nothing(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src", {"log.txt": b"first line\n"})
    busy = LocalStoreWithABusyWriter(tmp_path / "store")
    busy.victim = src / "log.txt"
    with pytest.raises(TransferError, match="changed size") as caught:
        write_bundle(busy, KEY, "output/", src, segment_size=1 << 20)
    assert caught.value.reason == "source_changed" and caught.value.exit_code == 1
    assert list(busy.list_objects(KEY)) == []
    busy.close()


def _put_tar(store: LocalStore, name: str, members: list[tuple[str, bytes]]) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in members:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    store.ensure_container(KEY)
    store.put_object(KEY, name, io.BytesIO(buffer.getvalue()), len(buffer.getvalue()))


def test_a_hostile_bundle_is_refused_and_leaves_nothing_behind(
    store: LocalStore, tmp_path: Path
) -> None:
    _put_tar(store, NAME, [("fine.dcm", b"ok"), ("../escaped", b"evil")])
    dest = tmp_path / "share" / "incoming"
    with pytest.raises(UnsafeArchive):
        unpack_bundle(store, KEY, NAME, dest)
    assert list(dest.iterdir()) == []
    assert not (tmp_path / "share" / "escaped").exists()


def test_bytes_that_differ_from_what_the_store_vouches_for_leave_nothing_behind(
    store: LocalStore, tmp_path: Path
) -> None:
    src = make_tree(tmp_path / "src", {"a.dcm": b"A" * 4000, "b.dcm": b"B" * 10})
    write_bundle(store, KEY, "output/", src, segment_size=1 << 20)
    (blob,) = [p for p in (tmp_path / "store" / "blobs").rglob("*") if p.is_file()]
    data = bytearray(blob.read_bytes())
    data[data.index(b"A" * 4000) + 100] ^= 0xFF  # one flipped bit in a file's bytes
    blob.write_bytes(bytes(data))
    dest = tmp_path / "dest"
    with pytest.raises(IntegrityError, match="MD5"):
        unpack_bundle(store, KEY, NAME, dest)
    assert list(dest.iterdir()) == []


def test_a_path_also_given_as_its_own_object_is_refused(store: LocalStore, tmp_path: Path) -> None:
    _put_tar(store, NAME, [("a.dcm", b"from the bundle"), ("b.dcm", b"b")])
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchive, match="both in the bundle and an object"):
        unpack_bundle(store, KEY, NAME, dest, refuse={"b.dcm"})
    assert list(dest.iterdir()) == []


def test_a_symbolic_link_in_the_destination_is_not_followed(
    store: LocalStore, tmp_path: Path
) -> None:
    _put_tar(store, NAME, [("series/a.dcm", b"a")])
    dest, elsewhere = tmp_path / "dest", tmp_path / "elsewhere"
    dest.mkdir()
    elsewhere.mkdir()
    (dest / "series").symlink_to(elsewhere)
    with pytest.raises(InvalidInput, match="in the way"):
        unpack_bundle(store, KEY, NAME, dest)
    assert list(elsewhere.iterdir()) == []
