"""The one large-object writer and the one delete-many, against the local directory store.

Failures are injected by FailingStore, a fake wrapper (named as one) around the real
LocalStore: it refuses chosen puts or deletes, everything else is the real store.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from radswift.errors import Conflict, StorageError, StorageUnavailable
from radswift.store import LocalStore
from radswift.transfer.remove import delete_many
from radswift.transfer.segments import SegmentSource, put_segmented, segment_name


class FailingStore:
    """A fake store: the real LocalStore, except that puts of names ending in
    `fail_put` and deletes of names in `fail_delete` raise the given errors."""

    def __init__(self, real: LocalStore, *, fail_put: str = "", fail_delete: Any = None) -> None:
        self.real = real
        self.fail_put = fail_put
        self.fail_delete: dict[str, Exception] = fail_delete or {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def put_object(self, container: str, name: str, body: BinaryIO, size: int, **kw: Any) -> Any:
        if self.fail_put and name.endswith(self.fail_put):
            raise StorageError(f"{name} refused by the fake store")
        return self.real.put_object(container, name, body, size, **kw)

    def delete_object(self, container: str, name: str) -> None:
        if name in self.fail_delete:
            raise self.fail_delete[name]
        self.real.delete_object(container, name)


def sources(parts: list[bytes]) -> list[SegmentSource]:
    def opener(data: bytes) -> Any:
        @contextlib.contextmanager
        def open_body() -> Iterator[BinaryIO]:
            yield io.BytesIO(data)

        return open_body

    return [SegmentSource(len(part), opener(part)) for part in parts]


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    real = LocalStore(tmp_path / "store")
    real.ensure_container("k")
    return real


def names(store: LocalStore, container: str) -> list[str]:
    return [info.name for info in store.list_objects(container)]


def test_segments_then_the_manifest_under_the_one_naming_scheme(store: LocalStore) -> None:
    parts = [b"a" * 10, b"b" * 10, b"c" * 3]
    with ThreadPoolExecutor(2) as pool:
        done = put_segmented(store, "k", "input/x", sources(parts), pool=pool, upload_id="u1")
    assert [ref.name for ref in done.segments] == [
        segment_name("input/x", "u1", i) for i in range(3)
    ]
    assert names(store, "k_segments") == [ref.name for ref in done.segments]
    with store.open_object("k", "input/x") as reader:
        assert b"".join(reader.iter_chunks()) == b"".join(parts)
    assert done.info.large and done.info.size == 23


def test_a_failed_segment_leaves_neither_object_nor_segments(store: LocalStore) -> None:
    fake = FailingStore(store, fail_put="/00000002")
    with ThreadPoolExecutor(1) as pool, pytest.raises(StorageError, match="refused"):
        put_segmented(fake, "k", "input/x", sources([b"a", b"b", b"c"]), pool=pool, upload_id="u")  # type: ignore[arg-type]
    assert names(store, "k") == [] and names(store, "k_segments") == []


def test_metadata_that_refuses_abandons_the_object(store: LocalStore) -> None:
    def metadata() -> dict[str, str]:
        raise Conflict("another writer got there first")

    with ThreadPoolExecutor(1) as pool, pytest.raises(Conflict):
        put_segmented(
            store, "k", "o", sources([b"a", b"b"]), pool=pool, upload_id="u", metadata=metadata
        )
    assert names(store, "k") == [] and names(store, "k_segments") == []


def test_delete_many_counts_what_was_gone_and_collects_failures(store: LocalStore) -> None:
    for name in ("a", "b", "c"):
        store.put_object("k", name, io.BytesIO(b"1"), 1)
    fake = FailingStore(store, fail_delete={"c": Conflict("c is busy")})
    result = delete_many(fake, "k", ["a", "gone", "c"], workers=2)  # type: ignore[arg-type]
    assert (result.deleted, result.existed, result.missing) == (2, 1, ["gone"])
    assert result.failures == [("c", "c is busy")]
    with pytest.raises(Conflict, match="busy"):
        result.raise_first()
    assert names(store, "k") == ["b", "c"]


def test_delete_many_stops_at_a_fatal_error(store: LocalStore) -> None:
    store.put_object("k", "a", io.BytesIO(b"1"), 1)
    fake = FailingStore(store, fail_delete={"a": StorageUnavailable("Swift is down")})
    with pytest.raises(StorageUnavailable):
        delete_many(fake, "k", ["a"], workers=1)  # type: ignore[arg-type]
