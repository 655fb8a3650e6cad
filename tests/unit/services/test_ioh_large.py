"""Pushing an entry as segments: when one segment fails, a segment already handed to
the upload pool is left to its put (never closed under it), and what was stored is
deleted. Against a fake store (pure logic of core/large.py, named as a fake)."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import replace
from typing import Any, cast

import pytest

from radswift.errors import StorageError
from radswift.services.ioh.core.large import put_large
from radswift.services.ioh.core.resources import Resources
from radswift.services.ioh.core.spool import ChunkReader, spool
from radswift.services.ioh.settings import DEFAULT_TRANSFER, Tuning
from radswift.store.base import ObjectInfo, ObjectStore

SEGMENT = 1024


class FakeSegmentStore:
    """A fake store: the first segment's put fails once the second one is running; that
    one reads its body only after a pause, as a slow upload does, and records it."""

    def __init__(self) -> None:
        self.read: dict[str, bytes | str] = {}
        self.deleted: list[str] = []
        self.second_running = threading.Event()

    def ensure_container(self, container: str) -> None:
        pass

    def put_object(
        self, container: str, name: str, body: Any, size: int, **_: object
    ) -> ObjectInfo:
        if name.endswith("/00000000"):
            assert self.second_running.wait(10)
            raise StorageError("segment 0 refused by the fake store")
        self.second_running.set()
        time.sleep(0.5)  # meanwhile the pusher handles segment 0's failure
        try:
            data = body.read(size)
        except ValueError as exc:  # its body was closed under it
            self.read[name] = f"closed: {exc}"
            raise
        self.read[name] = data
        return ObjectInfo(
            name=name, size=size, etag=hashlib.md5(data, usedforsecurity=False).hexdigest()
        )

    def delete_object(self, container: str, name: str) -> None:
        self.deleted.append(name)


def test_a_failed_segment_leaves_the_next_one_to_its_running_put() -> None:
    fake = FakeSegmentStore()
    resources = Resources.create(
        Tuning(transfer=replace(DEFAULT_TRANSFER, segment_size=SEGMENT), pool_workers=4)
    )
    try:
        first = spool(
            [b"a" * SEGMENT],
            size_hint=None,
            small=0,
            budget=resources.budget,
            account=lambda n: None,
        )
        rest = ChunkReader([b"b" * SEGMENT, b"c" * SEGMENT])
        with pytest.raises(StorageError):
            put_large(
                cast(ObjectStore, fake),
                "k",
                "input/big",
                first,
                rest,
                resources=resources,
                account=lambda n: None,
                wrote=lambda n: None,
                push_id="p",
            )
    finally:
        resources.close()
    second = "input/big/slo/p/00000001"  # the transfer engine's one naming scheme
    assert fake.read == {second: b"b" * SEGMENT}
    assert fake.deleted == [second]  # stored, then removed with the failed object
    assert resources.budget.used == 0
