"""Pure pieces of the engine: sizes, safe paths, streaming verification, the worker pool."""

from __future__ import annotations

import hashlib
import threading

import pytest

from radswift.errors import IntegrityError, InvalidInput, StorageUnavailable
from radswift.store import ObjectInfo, SegmentRef
from radswift.transfer import TransferOptions
from radswift.transfer.hashing import StreamVerifier
from radswift.transfer.options import parse_size
from radswift.transfer.plan import safe_relative_path
from radswift.transfer.pool import run_workers


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1GiB", 2**30),
        ("512MiB", 2**29),
        ("1M", 2**20),
        ("64k", 65536),
        ("1.5G", 3 * 2**29),
        ("1048576", 2**20),
        ("10 MB", 10**7),
    ],
)
def test_sizes_accept_the_usual_spellings(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-1", "1X", "GiB", "inf"])
def test_nonsense_sizes_are_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput, match="not a size"):
        parse_size(text)


def test_options_refuse_impossible_values() -> None:
    with pytest.raises(InvalidInput):
        TransferOptions(workers=0)
    with pytest.raises(InvalidInput):
        TransferOptions(segment_size=10)


@pytest.mark.parametrize(
    ("name", "rel"),
    [("out/a/b.dcm", "a/b.dcm"), ("out/dir/", "dir/"), ("out/", ""), ("out/..x/y", "..x/y")],
)
def test_names_below_the_prefix_map_to_relative_paths(name: str, rel: str) -> None:
    assert safe_relative_path(name, "out/") == rel


@pytest.mark.parametrize(
    "name", ["out//abs", "out/../up", "out/a/../../up", "out/a/./b", "out/a//b", "out/.."]
)
def test_names_that_would_escape_or_alias_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        safe_relative_path(name, "out/")


def _info(data: bytes, *, etag: str | None = None) -> ObjectInfo:
    return ObjectInfo(name="x", size=len(data), etag=etag or hashlib.md5(data).hexdigest())


def _refs(parts: list[bytes]) -> list[SegmentRef]:
    return [
        SegmentRef(
            container="c_segments", name=f"x/{i}", etag=hashlib.md5(p).hexdigest(), size=len(p)
        )
        for i, p in enumerate(parts)
    ]


def test_a_large_object_verifies_across_chunk_and_segment_boundaries() -> None:
    parts = [b"a" * 7, b"b" * 5, b"c" * 9]
    data = b"".join(parts)
    verifier = StreamVerifier(_info(data, etag="not-an-md5"), _refs(parts))
    for start in range(0, len(data), 4):  # chunks straddle segment ends
        verifier.update(data[start : start + 4])
    verifier.finish()


def test_one_flipped_byte_names_its_segment() -> None:
    parts = [b"a" * 7, b"b" * 5]
    verifier = StreamVerifier(_info(b"".join(parts)), _refs(parts))
    with pytest.raises(IntegrityError, match="segment 1"):
        verifier.update(b"a" * 7 + b"bbXbb")


def test_short_or_wrong_plain_objects_fail_at_finish() -> None:
    verifier = StreamVerifier(_info(b"hello"), None)
    verifier.update(b"hell")
    with pytest.raises(IntegrityError, match="received 4 bytes"):
        verifier.finish()
    verifier = StreamVerifier(_info(b"hello"), None)
    verifier.update(b"jello")
    with pytest.raises(IntegrityError, match="MD5"):
        verifier.finish()


def test_workers_run_every_item_on_bounded_threads() -> None:
    seen: list[int] = []
    threads: set[str] = set()
    lock = threading.Lock()

    def job(item: int) -> None:
        with lock:
            seen.append(item)
            threads.add(threading.current_thread().name)

    run_workers(job, list(range(500)), 4)
    assert sorted(seen) == list(range(500))
    assert 1 <= len(threads) <= 4


def test_an_error_escaping_a_job_stops_the_pool_and_is_raised() -> None:
    done: list[int] = []

    def job(item: int) -> None:
        if item == 3:
            raise StorageUnavailable("store gone")
        done.append(item)

    with pytest.raises(StorageUnavailable):
        run_workers(job, list(range(10_000)), 2)
    assert len(done) < 10_000


def test_the_public_api_is_what_all_says() -> None:
    import radswift.store
    import radswift.transfer

    for module in (radswift.transfer, radswift.store):
        exported = set(module.__all__)
        assert {name for name in vars(module) if name[:1].isupper()} <= exported
        assert all(hasattr(module, name) for name in exported)
