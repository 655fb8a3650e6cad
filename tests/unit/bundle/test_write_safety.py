"""write_bundle's refusals and its cleanup under a concurrent writer (local-directory store).

A bundle is stored only if every reader can read it back: a name the safe archive
reader refuses (backslash, a leading drive letter) or a tree beyond the readers'
ArchiveLimits is refused before anything is stored. Replacing a bundle deletes only
the segments of the bundle this write replaced, and only while its own bundle is still
the current one, so an overlapping writer's live bundle is never damaged. Local read
trouble (an unreadable file, a file that changed, or one swapped for a FIFO or a link
after planning) is a TransferError (exit 1), not a bad argument.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from radswift.archive import ArchiveLimits
from radswift.bundle import bundle_object
from radswift.bundle.read import unpack_bundle
from radswift.bundle.write import write_bundle
from radswift.errors import InvalidInput, TransferError
from radswift.names import segments_container
from radswift.store.base import ObjectInfo, SegmentRef
from radswift.store.local import LocalStore

KEY = "study-1"
NAME = bundle_object("output/")
SEGMENT = 16_384


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    local = LocalStore(tmp_path / "store")
    yield local
    local.close()


def make_tree(root: Path, files: Mapping[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def tree_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def random_files(prefix: str, count: int) -> dict[str, bytes]:
    return {f"{prefix}{i}.dcm": os.urandom(20_000) for i in range(count)}


# --- overlapping writers --------------------------------------------------------------


class LocalStoreWithASecondWriter(LocalStore):
    """The real local store; right after the first manifest it stores, another writer
    (`second`) replaces the bundle whole, as an overlapping job re-run would."""

    second: Path | None = None

    def put_manifest(
        self,
        container: str,
        name: str,
        segments: Sequence[SegmentRef],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        info = super().put_manifest(
            container, name, segments, content_type=content_type, metadata=metadata
        )
        second, self.second = self.second, None
        if second is not None:
            write_bundle(self, KEY, "output/", second, segment_size=SEGMENT)
        return info


def test_an_overlapping_writer_keeps_its_bundle_whole(tmp_path: Path) -> None:
    racy = LocalStoreWithASecondWriter(tmp_path / "store")
    first = make_tree(tmp_path / "x", random_files("x", 3))
    write_bundle(racy, KEY, "output/", first, segment_size=SEGMENT)  # the bundle replaced
    racy.second = make_tree(tmp_path / "b", random_files("b", 4))
    write_bundle(racy, KEY, "output/", make_tree(tmp_path / "a", random_files("a", 3)),
                 segment_size=SEGMENT)  # fmt: skip
    unpack_bundle(racy, KEY, NAME, tmp_path / "dest")  # B's bundle, whole
    assert tree_of(tmp_path / "dest") == tree_of(tmp_path / "b")
    live = {ref.name for ref in racy.open_object(KEY, NAME).segments or ()}
    left = {i.name for i in racy.list_objects(segments_container(KEY))}
    assert live <= left
    racy.close()


# --- trees the readers would refuse ----------------------------------------------------


@pytest.mark.parametrize("bad", ["scan\\001.dcm", "T:1.dcm"])
def test_a_name_a_bundle_cannot_hold_is_refused_before_anything_is_stored(
    store: LocalStore, tmp_path: Path, bad: str
) -> None:
    src = make_tree(tmp_path / "src", {"fine.dcm": b"f", bad: b"x"})
    with pytest.raises(InvalidInput) as caught:
        write_bundle(store, KEY, "output/", src, segment_size=1 << 20)
    assert caught.value.reason == "unbundlable_name" and caught.value.exit_code == 2
    assert repr(bad) in caught.value.message
    assert not store.container_exists(KEY)


@pytest.mark.parametrize(
    ("limits", "reason", "named"),
    [
        (ArchiveLimits(max_entries=2), "too_many_entries", "max_entries"),
        (ArchiveLimits(max_entry_bytes=999), "entry_too_large", "'big.dcm'"),
        (ArchiveLimits(max_total_bytes=1001), "archive_too_large", "max_total_bytes"),
    ],
)
def test_a_tree_beyond_the_readers_limits_is_refused_before_anything_is_stored(
    store: LocalStore, tmp_path: Path, limits: ArchiveLimits, reason: str, named: str
) -> None:
    src = make_tree(tmp_path / "src", {"big.dcm": b"B" * 1000, "a.dcm": b"a", "s/c.dcm": b"c"})
    with pytest.raises(InvalidInput, match=named) as caught:
        write_bundle(store, KEY, "output/", src, segment_size=1 << 20, limits=limits)
    assert caught.value.reason == reason
    assert not store.container_exists(KEY)


# --- local read trouble ------------------------------------------------------------------


class LocalStoreThatSwapsAFile(LocalStore):
    """The real local store; as the first put starts, `victim` is replaced by `swap`."""

    victim: Path
    swap: str

    def put_object(
        self, container: str, name: str, body: BinaryIO, size: int, **options: Any
    ) -> ObjectInfo:
        if self.victim.exists() or self.victim.is_symlink():
            self.victim.unlink()
            if self.swap == "fifo":
                os.mkfifo(self.victim)
            elif self.swap == "symlink":
                self.victim.symlink_to(self.victim.with_name("other.dcm"))
            else:
                self.victim.write_bytes(b"grown " * 10)
        return super().put_object(container, name, body, size, **options)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("swap", ["fifo", "symlink", "grown"])
def test_a_file_swapped_after_planning_fails_the_write_and_stores_nothing(
    tmp_path: Path, swap: str
) -> None:
    src = make_tree(tmp_path / "src", {"scan.dcm": b"s" * 100, "other.dcm": b"o" * 100})
    swapping = LocalStoreThatSwapsAFile(tmp_path / "store")
    swapping.victim, swapping.swap = src / "scan.dcm", swap
    with pytest.raises(TransferError, match="no bundle was stored") as caught:
        write_bundle(swapping, KEY, "output/", src, segment_size=1 << 20)
    assert caught.value.exit_code == 1
    assert [path for path, _ in caught.value.failures] == ["scan.dcm"]
    assert list(swapping.list_objects(KEY)) == []
    swapping.close()
