"""The bundle's tar view: a seekable file whose bytes are the pax tar of a local tree.

It must be exactly what radswift's streamed tar writer produces for the same entries
(one format for pulls and bundles), readable by Python's tarfile, readable in any
window (segments) and again after a rewind (a store's retry), and it must refuse to
carry on when a file changes size under it.
"""

from __future__ import annotations

import functools
import io
import os
import tarfile
from pathlib import Path

import pytest

from radswift.archive import OutEntry, tar_stream
from radswift.archive.write import tar_size
from radswift.bundle.layout import LayoutEntry, SourceChanged, TarLayout, TarView
from radswift.bundle.write import layout_entries
from radswift.transfer.plan import plan_upload

TREE = {
    "series/IM-0001.dcm": os.urandom(70_000),
    "series/IM-0002.dcm": b"E" * 512,  # exactly one block: no padding
    "series/deeper/IM-0003.dcm": b"F" * 513,
    "notes é 名前.txt": b"hi",
    "empty.bin": b"",
    "long/" + "n" * 150 + ".dcm": b"long name",  # beyond ustar's 100 bytes: a pax header
}
EMPTY_DIRS = ["nothing-here", "series/also-empty"]


def make_tree(root: Path) -> Path:
    for rel, data in TREE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (1_700_000_000, 1_700_000_000))
    for rel in EMPTY_DIRS:
        (root / rel).mkdir(parents=True)
    return root


def layout_of(root: Path) -> TarLayout:
    return TarLayout(layout_entries(root, plan_upload(root)))


def read_all(layout: TarLayout) -> bytes:
    with TarView(layout) as view:
        return view.read()


def test_the_view_is_a_tar_python_reads_back_byte_for_byte(tmp_path: Path) -> None:
    layout = layout_of(make_tree(tmp_path / "src"))
    data = read_all(layout)
    assert len(data) == layout.size and layout.size % 10240 == 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        members = {m.name: m for m in tar.getmembers()}
        for rel, content in TREE.items():
            assert members[rel].isfile() and members[rel].mtime == 1_700_000_000
            extracted = tar.extractfile(rel)
            assert extracted is not None and extracted.read() == content
        assert {name for name, m in members.items() if m.isdir()} == set(EMPTY_DIRS)
    assert set(members) == set(TREE) | set(EMPTY_DIRS)


def test_the_view_has_the_very_bytes_of_the_streamed_tar_writer(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src")
    entries = layout_entries(root, plan_upload(root))
    streamed_entries = [
        OutEntry(
            path=e.path,
            size=e.size,
            mtime=e.mtime,
            chunks=None if e.source is None else functools.partial(_contents, e.source),
        )
        for e in entries
    ]
    layout = TarLayout(entries)
    assert read_all(layout) == b"".join(tar_stream(streamed_entries))
    assert layout.size == tar_size(streamed_entries)


def _contents(path: str) -> list[bytes]:
    return [Path(path).read_bytes()]


def test_an_empty_tree_is_an_empty_tar(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    data = read_all(layout_of(tmp_path / "src"))
    assert data == bytes(10240)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getmembers() == []


@pytest.mark.parametrize("start,length", [(0, 1), (0, 512), (511, 2), (700, 70_000), (1, 0)])
def test_a_window_reads_exactly_its_slice_of_the_tar(
    tmp_path: Path, start: int, length: int
) -> None:
    layout = layout_of(make_tree(tmp_path / "src"))
    whole = read_all(layout)
    with TarView(layout, start, length) as view:
        assert view.read() == whole[start : start + length]
        assert view.read() == b""


def test_windows_cut_anywhere_add_up_to_the_whole_tar(tmp_path: Path) -> None:
    layout = layout_of(make_tree(tmp_path / "src"))
    whole = read_all(layout)
    pieces = []
    for offset in range(0, layout.size, 3333):
        length = min(3333, layout.size - offset)
        with TarView(layout, offset, length) as view:
            pieces.append(view.read())
    assert b"".join(pieces) == whole


def test_seek_tell_and_rewind_read_the_same_bytes_again(tmp_path: Path) -> None:
    layout = layout_of(make_tree(tmp_path / "src"))
    whole = read_all(layout)
    with TarView(layout, 100, 50_000) as view:
        first = view.read(20_000)
        assert view.tell() == 20_000
        view.seek(0)
        assert view.read(20_000) == first == whole[100:20_100]
        assert view.seek(-10, io.SEEK_END) == 49_990
        assert view.read() == whole[50_090:50_100]
        view.seek(5)
        buffer = bytearray(7)
        assert view.readinto(buffer) == 7 and bytes(buffer) == whole[105:112]


def test_a_window_outside_the_tar_is_refused(tmp_path: Path) -> None:
    layout = layout_of(make_tree(tmp_path / "src"))
    with pytest.raises(ValueError, match="outside"):
        TarView(layout, layout.size - 10, 11)


def _one_file(tmp_path: Path, size: int) -> tuple[Path, TarLayout]:
    path = tmp_path / "grows.dcm"
    path.write_bytes(b"x" * size)
    return path, TarLayout([LayoutEntry("grows.dcm", size, 0.0, str(path))])


def test_a_file_that_changed_size_since_it_was_planned_is_an_error(tmp_path: Path) -> None:
    path, layout = _one_file(tmp_path, 5000)
    path.write_bytes(b"x" * 6000)
    with TarView(layout) as view, pytest.raises(SourceChanged, match="changed size"):
        view.read()


def test_a_file_that_grows_while_it_is_read_is_an_error(tmp_path: Path) -> None:
    path, layout = _one_file(tmp_path, 5000)
    with TarView(layout) as view:
        view.read(1024)  # the header and the start of the data
        with path.open("ab") as out:
            out.write(b"more")
        with pytest.raises(SourceChanged, match="changed size"):
            view.read()


def test_a_file_that_shrinks_while_it_is_read_is_an_error(tmp_path: Path) -> None:
    path, layout = _one_file(tmp_path, 5000)
    with TarView(layout) as view:
        view.read(1024)
        os.truncate(path, 2000)
        with pytest.raises(SourceChanged, match="shrank"):
            view.read()
