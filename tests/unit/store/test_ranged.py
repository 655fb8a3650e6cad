"""RangedFile: an object read as a file, fetching only the windows read (local store)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from radswift.store.local import LocalStore
from radswift.store.ranged import RangedFile

DATA = os.urandom(100_000)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    store.ensure_container("k")
    store.put_object("k", "blob", io.BytesIO(DATA), len(DATA))
    return store


def test_reads_and_seeks_like_a_file_but_fetches_only_a_window(store: LocalStore) -> None:
    ranged = RangedFile(store, "k", "blob", len(DATA), window=1000)
    assert ranged.read(10) == DATA[:10]
    assert (ranged.requests, ranged.fetched) == (1, 1000)
    ranged.seek(500)
    assert ranged.read(100) == DATA[500:600]  # inside the window: no request
    assert ranged.requests == 1
    ranged.seek(-10, io.SEEK_END)
    assert ranged.read(100) == DATA[-10:]  # past the end: what there is
    assert ranged.read(1) == b""
    assert ranged.fetched < len(DATA) // 10


def test_reads_that_continue_the_window_double_it_and_a_jump_starts_again(
    store: LocalStore,
) -> None:
    ranged = RangedFile(store, "k", "blob", len(DATA), window=1000)
    pieces = [ranged.read(600) for _ in range(34)]  # a 20 KB header read tag by tag
    assert b"".join(pieces) == DATA[:20_400]
    assert ranged.requests <= 6  # 1000, 1000, 2000, 4000, 8000, 16000: not 21 windows
    before = ranged.fetched
    ranged.seek(80_000)
    assert ranged.read(1) == DATA[80_000:80_001]
    assert ranged.fetched - before == 1000


def test_a_view_is_a_file_over_part_of_the_object_sharing_the_buffer(store: LocalStore) -> None:
    ranged = RangedFile(store, "k", "blob", len(DATA), window=4096)
    ranged.read(1)
    view = ranged.view(512, 1000)
    assert view.read(100) == DATA[512:612]
    assert ranged.requests == 1  # served from the window already fetched
    view.seek(0)
    assert view.read() == DATA[512:1512]


def test_tarfile_walks_a_tar_object_by_its_headers_only(store: LocalStore) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for index in range(20):
            info = tarfile.TarInfo(f"dir/{'long-name-' * 12}{index}.bin")  # pax headers
            info.size = 50_000
            tar.addfile(info, io.BytesIO(os.urandom(50_000)))
    data = buffer.getvalue()
    store.put_object("k", "tar", io.BytesIO(data), len(data))
    ranged = RangedFile(store, "k", "tar", len(data), window=2048)
    with tarfile.open(fileobj=ranged, mode="r:") as tar:  # type: ignore[call-overload]
        names = [m.name for m in tar]
    assert len(names) == 20 and names[0].endswith("0.bin")
    assert ranged.fetched < len(data) // 10
