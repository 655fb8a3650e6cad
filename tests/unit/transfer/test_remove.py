"""Deleting objects: one by name, a prefix as a directory (-r), a whole key with its segments."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from radswift.errors import InvalidInput, NotFound
from radswift.store import LocalStore
from radswift.transfer import TransferOptions, upload_tree
from radswift.transfer.remove import remove_objects


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    store.ensure_container("job1")
    for name in ["input", "input/a", "input/b/c", "input2/x", "output/y"]:
        store.put_object("job1", name, io.BytesIO(b"1"), 1)
    return store


def names(store: LocalStore, container: str = "job1") -> list[str]:
    return [i.name for i in store.list_objects(container)]


def test_one_object_needs_no_recursive(store: LocalStore) -> None:
    assert remove_objects(store, "job1", "input", recursive=False) == 1
    assert "input" not in names(store) and "input/a" in names(store)


def test_a_prefix_is_a_directory_never_a_string_prefix(store: LocalStore) -> None:
    assert remove_objects(store, "job1", "input", recursive=True) == 3
    assert names(store) == ["input2/x", "output/y"]


def test_many_objects_need_recursive(store: LocalStore) -> None:
    with pytest.raises(InvalidInput, match="--recursive"):
        remove_objects(store, "job1", "input/", recursive=False)
    assert len(names(store)) == 5
    with pytest.raises(NotFound):
        remove_objects(store, "job1", "nothing/", recursive=True)


def test_the_whole_key_goes_with_its_segments(store: LocalStore, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "big").write_bytes(b"x" * 5000)
    upload_tree(store, tmp_path / "src", "job1", "big/", options=TransferOptions(segment_size=1024))
    store.put_object("job1_segments", "orphan/slo/1/2/3/00000000", io.BytesIO(b""), 0)
    assert remove_objects(store, "job1", "", recursive=True) == 6
    assert not store.container_exists("job1")
    assert not store.container_exists("job1_segments")
