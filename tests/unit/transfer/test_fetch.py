"""A large object's segments are fetched straight from where they are stored, several at
once, each verified against its manifest MD5, into one file at their offsets."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from radswift.store import LocalStore
from radswift.store.local_reader import LocalReader
from radswift.transfer import TransferOptions, download_object, download_tree, upload_tree

SEGMENT = 64 * 1024


class SegmentBarrierStore(LocalStore):
    """A LocalStore whose segment reads each wait until `parties` of them are open:
    a download that fetched segments one after the other would never get past it."""

    def __init__(self, root: Path, parties: int) -> None:
        super().__init__(root)
        self.barrier = threading.Barrier(parties, timeout=10)

    def open_object(
        self, container: str, name: str, *, offset: int = 0, length: int | None = None
    ) -> LocalReader:
        if container.endswith("_segments"):
            self.barrier.wait()
        return super().open_object(container, name, offset=offset, length=length)


@pytest.fixture
def data() -> bytes:
    return os.urandom(SEGMENT * 3 + 123)  # four segments, the last one short


def test_segments_are_fetched_concurrently_into_one_verified_file(
    tmp_path: Path, data: bytes
) -> None:
    store = SegmentBarrierStore(tmp_path / "store", parties=4)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "brain.nii").write_bytes(data)
    options = TransferOptions(segment_size=SEGMENT, segment_workers=4)
    upload_tree(LocalStore(tmp_path / "store"), tmp_path / "src", "job1", "", options=options)
    result = download_tree(store, "job1", "", tmp_path / "out", options=options)
    assert result.failures == [] and result.bytes == len(data)
    assert (tmp_path / "out" / "brain.nii").read_bytes() == data
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["brain.nii"]  # no temp files


def test_one_large_object_downloads_by_segments_too(tmp_path: Path, data: bytes) -> None:
    store = SegmentBarrierStore(tmp_path / "store", parties=2)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "brain.nii").write_bytes(data)
    options = TransferOptions(segment_size=SEGMENT, segment_workers=2)
    upload_tree(LocalStore(tmp_path / "store"), tmp_path / "src", "job1", "", options=options)
    info = download_object(store, "job1", "brain.nii", tmp_path / "one.nii", options=options)
    assert info.large and (tmp_path / "one.nii").read_bytes() == data
