"""Upload a tree, download it back: the same files, bytes, empty dirs and mtimes.

The engine runs against the real local directory store; what it does to a store
(segments, markers, metadata) is checked through the ObjectStore interface.
"""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import pytest

from radswift.store import DIRECTORY_CONTENT_TYPE, LocalStore
from radswift.transfer import TransferOptions, download_tree, upload_file, upload_tree

SEGMENT = 64 * 1024
OPTIONS = TransferOptions(segment_size=SEGMENT, workers=4, segment_workers=2)


def make_tree(root: Path) -> Path:
    """Nested dirs, empty files, an empty dir, non-ASCII names, a file over the segment size."""
    (root / "study" / "series 1").mkdir(parents=True)
    (root / "study" / "series 1" / "IM-0001.dcm").write_bytes(b"DICM" * 1000)
    (root / "study" / "series 1" / "empty.dcm").write_bytes(b"")
    (root / "study" / "empty dir").mkdir()
    (root / "study" / "naïve — 患者.txt").write_text("non-ASCII name\n")
    (root / "study" / "brain.nii").write_bytes(os.urandom(SEGMENT * 3 + 123))
    os.utime(root / "study" / "series 1" / "IM-0001.dcm", (1_600_000_000.5, 1_600_000_000.5))
    return root / "study"


def assert_same_tree(left: Path, right: Path) -> None:
    cmp = filecmp.dircmp(left, right)
    assert (cmp.left_only, cmp.right_only, cmp.diff_files, cmp.funny_files) == ([], [], [], [])
    _, mismatch, errors = filecmp.cmpfiles(left, right, cmp.common_files, shallow=False)
    assert (mismatch, errors) == ([], [])
    for sub in cmp.common_dirs:
        assert_same_tree(left / sub, right / sub)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def test_a_tree_survives_the_round_trip(store: LocalStore, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    up = upload_tree(store, source, "job1", "input/", options=OPTIONS)
    assert (up.files, up.directories, up.failures, up.ignored) == (4, 1, [], [])
    assert up.bytes == sum(p.stat().st_size for p in source.rglob("*") if p.is_file())

    down = download_tree(store, "job1", "input/", tmp_path / "out", options=OPTIONS)
    assert (down.files, down.directories, down.failures) == (4, 1, [])
    assert_same_tree(source, tmp_path / "out")
    assert (tmp_path / "out" / "empty dir").is_dir()
    copied = tmp_path / "out" / "series 1" / "IM-0001.dcm"
    assert copied.stat().st_mtime == pytest.approx(1_600_000_000.5, abs=1e-5)


def test_what_the_store_holds_is_what_the_swift_cli_would_write(
    store: LocalStore, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src")
    upload_tree(store, source, "job1", "input/", options=OPTIONS)
    marker = store.head_object("job1", "input/empty dir/")
    assert (marker.size, marker.content_type) == (0, DIRECTORY_CONTENT_TYPE)
    big = store.head_object("job1", "input/brain.nii")
    assert big.large and big.size == SEGMENT * 3 + 123
    mtime = big.metadata["mtime"]
    segments = [i.name for i in store.list_objects("job1_segments")]
    size = SEGMENT * 3 + 123
    assert segments == [f"input/brain.nii/slo/{mtime}/{size}/{SEGMENT}/{i:08d}" for i in range(4)]
    small = store.head_object("job1", "input/series 1/IM-0001.dcm")
    assert small.metadata["mtime"] == "1600000000.500000"


def test_one_file_uploads_under_the_given_name(store: LocalStore, tmp_path: Path) -> None:
    path = tmp_path / "one.dcm"
    path.write_bytes(b"x" * 10)
    result = upload_file(store, path, "job1", "input/renamed.dcm", options=OPTIONS)
    assert result.files == 1
    assert store.head_object("job1", "input/renamed.dcm").size == 10
    sync = TransferOptions(sync=True)
    again = upload_file(store, path, "job1", "input/renamed.dcm", options=sync)
    assert (again.files, again.skipped) == (0, 1)


def test_sync_skips_what_already_matches_and_sends_what_changed(
    store: LocalStore, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src")
    upload_tree(store, source, "job1", "input/", options=OPTIONS)
    (source / "naïve — 患者.txt").write_text("NON-ascii name\n")  # same size, other bytes
    sync = TransferOptions(segment_size=SEGMENT, sync=True)
    again = upload_tree(store, source, "job1", "input/", options=sync)
    assert again.skipped == 4  # IM-0001, empty.dcm, brain.nii (segment-wise), the empty dir
    assert again.files == 1  # the changed file
    assert again.bytes == len("NON-ascii name\n")

    out = tmp_path / "out"
    download_tree(store, "job1", "input/", out, options=sync)
    (out / "brain.nii").write_bytes(b"\0" * (SEGMENT * 3 + 123))  # same size, corrupted
    back = download_tree(store, "job1", "input/", out, options=sync)
    assert back.skipped == 3 and back.failures == []
    assert_same_tree(source, out)


def test_replacing_a_large_object_removes_its_old_segments(
    store: LocalStore, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src")
    upload_tree(store, source, "job1", "input/", options=OPTIONS)
    (source / "brain.nii").write_bytes(os.urandom(SEGMENT + 1))
    upload_tree(store, source, "job1", "input/", options=OPTIONS)
    names = [i.name for i in store.list_objects("job1_segments")]
    assert len(names) == 2 and all(f"/{SEGMENT + 1}/" in n for n in names)
    (source / "brain.nii").write_bytes(b"small now")
    upload_tree(store, source, "job1", "input/", options=OPTIONS)
    assert list(store.list_objects("job1_segments")) == []


def test_progress_sees_every_byte_and_file(store: LocalStore, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")

    class Recorder:
        def __init__(self) -> None:
            self.total = (0, 0)
            self.moved = 0
            self.done: list[tuple[str, bool]] = []

        def set_total(self, files: int, bytes: int) -> None:
            self.total = (files, bytes)

        def advance(self, nbytes: int) -> None:
            self.moved += nbytes

        def file_done(self, path: str, ok: bool) -> None:
            self.done.append((path, ok))

    up = Recorder()
    result = upload_tree(store, source, "job1", "input/", options=OPTIONS, progress=up)
    assert up.total == (5, result.bytes) and up.moved == result.bytes
    assert sorted(up.done)[0] == ("brain.nii", True) and len(up.done) == 5
    down = Recorder()
    download_tree(store, "job1", "input/", tmp_path / "out", options=OPTIONS, progress=down)
    assert down.total == (5, result.bytes) and down.moved == result.bytes
