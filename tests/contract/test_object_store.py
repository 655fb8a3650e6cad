"""The ObjectStore contract: what every backend must do, exactly as Swift does it.

One suite, run against every backend. A backend joins by adding its name to BACKENDS
and a branch to `make_store` (the local directory store is here; Swift is started by
the session fixture `local_swift`).
"""

from __future__ import annotations

import hashlib
import io
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from radswift.errors import Conflict, InvalidName, NotFound, RadswiftError
from radswift.store import DIRECTORY_CONTENT_TYPE, LocalStore, ObjectStore, SegmentRef
from radswift.store.swift import SwiftStore
from radswift.swift.credentials import credentials_from_environ

BACKENDS = ["local", pytest.param("swift", marks=pytest.mark.swift)]


def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if backend == "local":
        return LocalStore(tmp_path / "local-store")
    if backend == "swift":
        swift = request.getfixturevalue("local_swift")
        creds = credentials_from_environ(swift.environ())
        assert creds is not None
        return SwiftStore.from_credentials(creds, workers=8)
    raise AssertionError(f"unknown backend {backend}")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    backend = make_store(request.param, request, tmp_path)
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def container(store: ObjectStore) -> str:
    name = f"contract-{uuid.uuid4().hex[:12]}"
    store.ensure_container(name)
    return name


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def put(store: ObjectStore, container: str, name: str, data: bytes, **kw: object) -> None:
    store.put_object(container, name, io.BytesIO(data), len(data), **kw)  # type: ignore[arg-type]


def read(
    store: ObjectStore, container: str, name: str, offset: int = 0, length: int | None = None
) -> bytes:
    with store.open_object(container, name, offset=offset, length=length) as reader:
        return b"".join(reader.iter_chunks())


def names(store: ObjectStore, container: str, prefix: str = "", marker: str = "") -> list[str]:
    return [info.name for info in store.list_objects(container, prefix, marker=marker)]


# --- containers -------------------------------------------------------------------------


def test_ensure_container_is_idempotent_and_visible(store: ObjectStore) -> None:
    name = f"contract-{uuid.uuid4().hex[:12]}"
    assert not store.container_exists(name)
    store.ensure_container(name)
    store.ensure_container(name)
    assert store.container_exists(name)
    assert names(store, name) == []


def test_delete_container_refuses_a_non_empty_one_and_a_missing_one(
    store: ObjectStore, container: str
) -> None:
    put(store, container, "x", b"1")
    with pytest.raises(Conflict):
        store.delete_container(container)
    store.delete_object(container, "x")
    store.delete_container(container)
    assert not store.container_exists(container)
    with pytest.raises(NotFound):
        store.delete_container(container)


def test_a_missing_container_is_not_found(store: ObjectStore) -> None:
    missing = f"contract-missing-{uuid.uuid4().hex[:8]}"
    with pytest.raises(NotFound):
        list(store.list_objects(missing))
    with pytest.raises(NotFound):
        put(store, missing, "x", b"1")


# --- plain objects ------------------------------------------------------------------------


def test_put_then_head_read_and_list_agree(store: ObjectStore, container: str) -> None:
    data = b"DICM" * 1000
    info = store.put_object(container, "study/1.dcm", io.BytesIO(data), len(data))
    assert (info.size, info.etag, info.large) == (len(data), md5(data), False)
    head = store.head_object(container, "study/1.dcm")
    assert (head.name, head.size, head.etag, head.large) == (
        "study/1.dcm",
        len(data),
        md5(data),
        False,
    )
    assert read(store, container, "study/1.dcm") == data
    [listed] = store.list_objects(container)
    assert (listed.name, listed.size, listed.etag) == ("study/1.dcm", len(data), md5(data))


def test_put_reads_exactly_size_bytes_from_the_current_position(
    store: ObjectStore, container: str
) -> None:
    body = io.BytesIO(b"HEADER" + b"payload" + b"TRAILER")
    body.seek(6)
    store.put_object(container, "slice", body, 7)
    assert read(store, container, "slice") == b"payload"


def test_empty_object(store: ObjectStore, container: str) -> None:
    info = store.put_object(container, "empty", io.BytesIO(b""), 0)
    assert (info.size, info.etag) == (0, md5(b""))
    assert read(store, container, "empty") == b""


def test_metadata_and_content_type_round_trip(store: ObjectStore, container: str) -> None:
    put(
        store,
        container,
        "m",
        b"x",
        metadata={"Mtime": "1700000000.250000"},
        content_type="application/dicom",
    )
    head = store.head_object(container, "m")
    assert head.metadata["mtime"] == "1700000000.250000"
    assert head.content_type == "application/dicom"


def test_directory_marker_beside_objects_under_it(store: ObjectStore, container: str) -> None:
    put(
        store,
        container,
        "a",
        b"file a",
    )
    put(store, container, "a/", b"", content_type=DIRECTORY_CONTENT_TYPE)
    put(store, container, "a/b", b"file a/b")
    assert names(store, container) == ["a", "a/", "a/b"]
    assert read(store, container, "a") == b"file a"
    assert read(store, container, "a/b") == b"file a/b"
    marker = store.head_object(container, "a/")
    assert marker.is_directory_marker
    assert marker.content_type == DIRECTORY_CONTENT_TYPE


def test_any_utf8_name_up_to_1024_bytes(store: ObjectStore, container: str) -> None:
    weird = ["ünïcødé/名前.dcm", "sp ace/%20/?q=1#x", "trailing.", "..", "a//b", "😀"]
    longest = "d/" + "x" * 1022
    for name in [*weird, longest]:
        put(store, container, name, name.encode())
    for name in [*weird, longest]:
        assert read(store, container, name) == name.encode()
    with pytest.raises(InvalidName):
        put(store, container, longest + "y", b"too long")


def test_listing_is_in_utf8_byte_order(store: ObjectStore, container: str) -> None:
    chosen = ["z", "B", "a", "é", "\uff5a", "😀", "A/", "a b", "a-b", "a/b"]
    for name in chosen:
        put(store, container, name, b"")
    assert names(store, container) == sorted(chosen, key=lambda n: n.encode("utf-8"))


def test_listing_with_prefix_and_marker(store: ObjectStore, container: str) -> None:
    for name in ["input/1", "input/2", "input/3", "input2/1", "output/1"]:
        put(store, container, name, b"")
    assert names(store, container, "input/") == ["input/1", "input/2", "input/3"]
    assert names(store, container, "input") == ["input/1", "input/2", "input/3", "input2/1"]
    assert names(store, container, "input/", marker="input/1") == ["input/2", "input/3"]
    assert names(store, container, marker="input2/1") == ["output/1"]
    assert names(store, container, "nothing/") == []


def test_overwrite_replaces_the_object(store: ObjectStore, container: str) -> None:
    put(store, container, "x", b"old")
    put(store, container, "x", b"new, longer")
    assert read(store, container, "x") == b"new, longer"
    assert store.head_object(container, "x").etag == md5(b"new, longer")
    assert names(store, container) == ["x"]


def test_a_failed_put_leaves_the_previous_object_untouched(
    store: ObjectStore, container: str
) -> None:
    put(store, container, "x", b"precious")
    with pytest.raises(RadswiftError):
        store.put_object(container, "x", io.BytesIO(b"short"), 100)
    assert read(store, container, "x") == b"precious"
    with pytest.raises(RadswiftError):
        store.put_object(container, "never", io.BytesIO(b"short"), 100)
    with pytest.raises(NotFound):
        store.head_object(container, "never")


def test_read_from_an_offset(store: ObjectStore, container: str) -> None:
    data = bytes(range(256)) * 10
    put(store, container, "x", data)
    assert read(store, container, "x", offset=1000) == data[1000:]
    assert read(store, container, "x", offset=len(data)) == b""


def test_a_bounded_range_reads_only_that_window(store: ObjectStore, container: str) -> None:
    data = bytes(range(256)) * 10
    put(store, container, "x", data)
    assert read(store, container, "x", length=100) == data[:100]
    assert read(store, container, "x", offset=1000, length=24) == data[1000:1024]
    assert read(store, container, "x", offset=2500, length=500) == data[2500:]  # past the end
    assert read(store, container, "x", offset=10, length=0) == b""
    assert read(store, container, "x", offset=len(data), length=10) == b""
    with store.open_object(container, "x", offset=5, length=5) as reader:
        assert reader.info.size == len(data)  # the whole object's size, not the window's
    put(store, container, "empty", b"")
    assert read(store, container, "empty", length=4096) == b""


def test_missing_objects_are_not_found(store: ObjectStore, container: str) -> None:
    with pytest.raises(NotFound):
        store.head_object(container, "nope")
    with pytest.raises(NotFound):
        store.open_object(container, "nope")
    with pytest.raises(NotFound):
        store.delete_object(container, "nope")


def test_delete_object(store: ObjectStore, container: str) -> None:
    put(store, container, "x", b"1")
    put(store, container, "x/y", b"2")
    store.delete_object(container, "x")
    assert names(store, container) == ["x/y"]


# --- large objects (manifests of segments) -------------------------------------------------


def _segments(store: ObjectStore, container: str, parts: list[bytes]) -> list[SegmentRef]:
    seg_container = container + "_segments"
    store.ensure_container(seg_container)
    refs = []
    for index, part in enumerate(parts):
        name = f"big/slo/1700000000.000000/{sum(map(len, parts))}/1048576/{index:08d}"
        info = store.put_object(seg_container, name, io.BytesIO(part), len(part))
        refs.append(SegmentRef(container=seg_container, name=name, etag=info.etag, size=len(part)))
    return refs


def test_a_manifest_reads_as_its_segments_concatenated(store: ObjectStore, container: str) -> None:
    parts = [b"a" * 1048576, b"b" * 1048576, b"tail"]
    refs = _segments(store, container, parts)
    info = store.put_manifest(container, "big", refs, metadata={"mtime": "1700000000.000000"})
    assert info.large and info.size == sum(map(len, parts))
    assert read(store, container, "big") == b"".join(parts)
    assert read(store, container, "big", offset=1048570) == b"".join(parts)[1048570:]
    window = read(store, container, "big", offset=1048570, length=12)
    assert window == b"".join(parts)[1048570:1048582]  # a range across two segments
    with store.open_object(container, "big") as reader:
        assert reader.info.large
        assert [(s.name, s.etag, s.size) for s in reader.segments or []] == [
            (r.name, md5(p), len(p)) for r, p in zip(refs, parts, strict=True)
        ]
    with store.open_object(container, "big", offset=info.size) as at_end:
        assert list(at_end.iter_chunks()) in ([], [b""])
        assert [s.name for s in at_end.segments or []] == [r.name for r in refs]
    head = store.head_object(container, "big")
    assert head.large and head.size == info.size and head.metadata["mtime"] == "1700000000.000000"


def test_deleting_a_manifest_deletes_its_segments(store: ObjectStore, container: str) -> None:
    refs = _segments(store, container, [b"x" * 1048576, b"y"])
    store.put_manifest(container, "big", refs)
    store.delete_object(container, "big")
    assert names(store, container) == []
    assert names(store, container + "_segments") == []


# --- concurrency ----------------------------------------------------------------------------


def test_concurrent_puts_of_one_name_leave_one_whole_body(
    store: ObjectStore, container: str
) -> None:
    bodies = [bytes([i]) * 300_000 for i in range(8)]
    errors: list[BaseException] = []

    def writer(data: bytes) -> Callable[[], None]:
        def run() -> None:
            try:
                put(store, container, "contended", data)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        return run

    threads = [threading.Thread(target=writer(b)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert read(store, container, "contended") in bodies
    assert names(store, container) == ["contended"]
