"""Deleting a key while a push to it starts (confirmed, and fixed): the push began
between delete_key's check for running pushes and its listing, was answered "stored",
and its objects were deleted by the delete that had not seen it.

The store is the real local store, paused (PausingLocalStore) inside the delete's
listing: exactly the window of the race, made wide enough to hit every time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from radswift.archive import ArchiveLimits
from radswift.archive.model import ArchiveEntry
from radswift.errors import Conflict
from radswift.services.ioh.core import delete_key, push_entries
from radswift.services.ioh.core.resources import Resources
from radswift.services.ioh.settings import Tuning
from radswift.store.base import ObjectInfo
from radswift.store.local import LocalStore


class PausingLocalStore(LocalStore):
    """The real local store; a listing of the whole key waits until `resume` is set
    (after announcing itself with `listing`)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.listing = threading.Event()
        self.resume = threading.Event()
        self.pause = False

    def list_objects(
        self, container: str, prefix: str = "", *, marker: str = ""
    ) -> Iterator[ObjectInfo]:
        if self.pause and not prefix:
            self.listing.set()
            assert self.resume.wait(10)
        return super().list_objects(container, prefix, marker=marker)


def entries(names: list[str]) -> Iterator[tuple[ArchiveEntry, Iterator[bytes] | None]]:
    for name in names:
        yield ArchiveEntry(path=name, is_dir=False, size=1, mtime=None), iter([b"x"])


def test_a_push_cannot_start_while_its_key_is_being_deleted(tmp_path: Path) -> None:
    store = PausingLocalStore(tmp_path / "store")
    resources = Resources.create(Tuning(pool_workers=2))
    try:
        push_entries(
            store, "k", "input/", entries(["old"]), resources=resources, limits=ArchiveLimits()
        )
        store.pause = True
        with ThreadPoolExecutor(1) as pool:
            deleting = pool.submit(delete_key, store, "k", resources.claims)
            assert store.listing.wait(10)  # the delete checked for pushes; now it lists
            try:
                with pytest.raises(Conflict) as refused:
                    push_entries(
                        store,
                        "k",
                        "input/",
                        entries(["new"]),
                        resources=resources,
                        limits=ArchiveLimits(),
                    )
                assert refused.value.reason == "key_busy"
            finally:
                store.resume.set()
            assert deleting.result() == 1
        assert not store.container_exists("k")
    finally:
        resources.close()
        store.close()
