"""The local directory store beyond the shared contract: paging, processes, its own disk."""

from __future__ import annotations

import io
import multiprocessing
from pathlib import Path

import pytest

from radswift.errors import IntegrityError
from radswift.store import LocalStore, SegmentRef


def put(store: LocalStore, container: str, name: str, data: bytes) -> None:
    store.put_object(container, name, io.BytesIO(data), len(data))


def test_listing_pages_through_everything_in_order(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, page_size=3)
    store.ensure_container("c")
    wanted = [f"p/{i:03d}" for i in range(10)]
    for name in reversed(wanted):
        put(store, "c", name, b"")
    put(store, "c", "q", b"")
    assert [i.name for i in store.list_objects("c", "p/")] == wanted
    assert [i.name for i in store.list_objects("c", "p/", marker="p/004")] == wanted[5:]


def _put_many(root: str, worker: int) -> None:
    store = LocalStore(Path(root))
    store.ensure_container("shared")  # each writer's own: a key is stored with its first object
    for i in range(25):
        put(store, "shared", f"w{worker}/{i}", f"{worker}:{i}".encode())
    store.close()


def test_processes_can_share_one_store(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_put_many, args=(str(tmp_path), w)) for w in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    store = LocalStore(tmp_path)
    assert len(list(store.list_objects("shared"))) == 75
    with store.open_object("shared", "w2/24") as reader:
        assert b"".join(reader.iter_chunks()) == b"2:24"


def test_a_reader_keeps_the_body_it_opened_while_the_object_is_replaced(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.ensure_container("c")
    put(store, "c", "x", b"first" * 100_000)
    with store.open_object("c", "x") as reader:
        put(store, "c", "x", b"second")
        assert b"".join(reader.iter_chunks()) == b"first" * 100_000
    assert list((tmp_path / "tmp").iterdir()) == []
    assert len([p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]) == 1


def test_a_manifest_whose_segment_was_replaced_refuses_to_stream(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.ensure_container("c")
    store.ensure_container("c_segments")
    info = store.put_object("c_segments", "s/0", io.BytesIO(b"abc"), 3)
    put(store, "c_segments", "s/1", b"def")
    refs = [
        SegmentRef(container="c_segments", name="s/0", etag=info.etag, size=3),
        SegmentRef(
            container="c_segments",
            name="s/1",
            etag=store.head_object("c_segments", "s/1").etag,
            size=3,
        ),
    ]
    store.put_manifest("c", "big", refs)
    put(store, "c_segments", "s/1", b"XYZ")
    with store.open_object("c", "big") as reader, pytest.raises(IntegrityError):
        b"".join(reader.iter_chunks())


def test_a_directory_that_cannot_be_a_store_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(Exception, match="cannot use"):
        LocalStore(tmp_path / "file")


def test_worker_threads_do_not_leak_connections(tmp_path: Path) -> None:
    """Threads that used the store and ended do not pile up SQLite connections.

    A dead thread's connection is closed when its thread-local storage goes, which
    CPython may do lazily; so at most one burst's worth (8) may still be open beside the
    main thread's connection and the index's WAL and SHM files, however many bursts ran.
    Counts only the files this store has open (all under tmp_path), so other tests'
    threads and sockets cannot move the number; close() then releases every one."""
    import gc
    import threading

    import psutil

    threads_per_burst = 8
    store = LocalStore(tmp_path)
    store.ensure_container("c")
    me = psutil.Process()

    def store_files_open() -> int:
        return sum(1 for f in me.open_files() if Path(f.path).is_relative_to(tmp_path))

    def burst(round_: int) -> None:
        threads = [
            threading.Thread(target=put, args=(store, "c", f"r{round_}t{i}", b"x"))
            for i in range(threads_per_burst)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        gc.collect()

    for round_ in range(6):
        burst(round_)
    assert 1 <= store_files_open() <= 1 + threads_per_burst + 2
    store.close()
    gc.collect()
    assert store_files_open() == 0
