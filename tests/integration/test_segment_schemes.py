"""Large objects written by earlier radswift code stay readable and deletable.

Two segment-naming schemes were written before the transfer engine's one writer:
`<object>/slo/<mtime>/<size>/<segment size>/<index>` (radswift cp, the publisher,
bundles; the swift CLI's) and `<object>/<push id>/<index>` (pfioh pushes). Objects of
both are laid out here segment by segment, as that code stored them, against every
backend (local directory, real Swift), then read, replaced and deleted with today's code.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import pytest

from radswift.services.ioh.core.claims import PushClaims
from radswift.services.ioh.core.keys import delete_key
from radswift.store.base import ObjectStore, SegmentRef
from radswift.transfer import TransferOptions, download_tree, upload_file
from radswift.transfer.remove import remove_objects
from radswift.transfer.segments import is_segment_of, segment_name, stale_segments

SEGMENT = 1 << 20
PUSH_ID = uuid.UUID(int=42).hex
SCHEMES = {
    "cli": lambda name, i: f"{name}/slo/1700000000.000000/{2 * SEGMENT + 5}/{SEGMENT}/{i:08d}",
    "pfioh": lambda name, i: f"{name}/{PUSH_ID}/{i:08d}",
}
PARTS = [b"a" * SEGMENT, b"b" * SEGMENT, b"tail!"]


def old_large_object(store: ObjectStore, key: str, name: str, scheme: str) -> list[str]:
    """`name` as an SLO whose segments are named by `scheme`; returns the segment names."""
    store.ensure_container(key)
    seg_container = key + "_segments"
    store.ensure_container(seg_container)
    refs = []
    for index, part in enumerate(PARTS):
        seg = SCHEMES[scheme](name, index)
        info = store.put_object(seg_container, seg, io.BytesIO(part), len(part))
        refs.append(SegmentRef(container=seg_container, name=seg, etag=info.etag, size=len(part)))
    store.put_manifest(key, name, refs)
    return [ref.name for ref in refs]


def names(store: ObjectStore, container: str) -> list[str]:
    return [info.name for info in store.list_objects(container)]


@pytest.fixture
def key() -> str:
    return f"schemes-{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_an_old_large_object_downloads_verified(
    store: ObjectStore, key: str, scheme: str, tmp_path: Path
) -> None:
    old_large_object(store, key, "input/big.nii", scheme)
    result = download_tree(store, key, "input/", tmp_path / "out")
    assert result.failures == [] and result.files == 1
    data = (tmp_path / "out" / "big.nii").read_bytes()
    assert hashlib.md5(data).digest() == hashlib.md5(b"".join(PARTS)).digest()


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_replacing_an_old_large_object_removes_its_old_segments(
    store: ObjectStore, key: str, scheme: str, tmp_path: Path
) -> None:
    old = old_large_object(store, key, "input/big.nii", scheme)
    assert stale_segments(store, key, "input/big.nii", set()) == old
    source = tmp_path / "big.nii"
    source.write_bytes(b"c" * (SEGMENT + 7))
    options = TransferOptions(segment_size=SEGMENT)
    upload_file(store, source, key, "input/big.nii", options=options).raise_for_failures()
    left = names(store, key + "_segments")
    assert not set(old) & set(left)
    assert len(left) == 2 and all(is_segment_of("input/big.nii", n) for n in left)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_an_old_large_object_goes_with_its_key(store: ObjectStore, key: str, scheme: str) -> None:
    old_large_object(store, key, "input/big.nii", scheme)
    store.put_object(key + "_segments", SCHEMES[scheme]("input/orphan", 0), io.BytesIO(b"x"), 1)
    assert remove_objects(store, key, "", recursive=True) == 1
    assert not store.container_exists(key)
    assert not store.container_exists(key + "_segments")


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_pfioh_deletes_a_key_holding_an_old_large_object(
    store: ObjectStore, key: str, scheme: str
) -> None:
    old_large_object(store, key, "output/big.nii", scheme)
    assert delete_key(store, key, PushClaims()) == 1
    assert not store.container_exists(key)
    assert not store.container_exists(key + "_segments")


def test_one_scheme_names_every_new_segment() -> None:
    cli = segment_name("a/b", "1700000000.000000/10/4", 2)
    assert cli == "a/b/slo/1700000000.000000/10/4/00000002"
    assert is_segment_of("a/b", cli)
    assert is_segment_of("a/b", segment_name("a/b", PUSH_ID, 0))
    assert is_segment_of("a/b", f"a/b/{PUSH_ID}/00000000")  # pfioh's earlier scheme
    assert not is_segment_of("a", cli)  # a segment of a/b is not one of a
    assert not is_segment_of("a/b", "a/b/slo/x/00000000")
