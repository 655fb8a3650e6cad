"""Replacing an area with or as a bundle through pfioh: readers see the old tree or the
new one, never an empty, shrinking or mixed one; a bundle push runs alone on its key;
what pfioh serves out of a bundle or an object is what the store vouches for.

Against the local store and the real local Swift (the corrupt-bytes case: local store
only, where a stored byte can be flipped on disk). A push is held mid-way
deterministically: by sending only part of its body (raw_upload), or by holding the
deletes of its key's old objects at a gate (GatedStore, the real store behind it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest
from bundle_helpers import (
    BUNDLE,
    finish_upload,
    key_listing,
    names,
    pulled,
    push,
    raw_upload,
    until,
)
from pfioh_helpers import new_key, serve, tar_bytes, tree_digest

from radswift.archive.limits import ArchiveLimits
from radswift.errors import StorageError
from radswift.services.ioh import IohSettings
from radswift.services.ioh.core import pull_bundle
from radswift.store.base import ObjectStore
from radswift.store.local import LocalStore
from trees import make_tree

OLD = {f"old/{i:02d}.dcm": bytes([i]) * 40_000 for i in range(8)}
NEW = {"new/a.dcm": b"A" * 300_000, "new/b.dcm": b"B" * 1000}


class GatedStore:
    """The real store, except that deleting an object of `container` stops at a gate
    (after the delete, until `release` is set) or, with `fail`, is refused: a
    replacing push is then caught between storing its new content and removing the old."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self.container = ""
        self.fail = False
        self.reached = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def delete_object(self, container: str, name: str) -> None:
        if container != self.container:
            self._store.delete_object(container, name)
            return
        if self.fail:
            raise StorageError("the test's gate refuses this delete")
        self._store.delete_object(container, name)
        self.reached.set()
        assert self.release.wait(60), "the test never released the gate"


@pytest.fixture
def gated(store: ObjectStore) -> Iterator[tuple[GatedStore, str]]:
    gate = GatedStore(store)
    try:
        with serve(cast(ObjectStore, gate)) as base:
            yield gate, base
    finally:
        gate.release.set()


def _tree(tmp_path: Path, files: dict[str, bytes], name: str) -> dict[str, str]:
    return tree_digest(make_tree(tmp_path / name, files))


def _busy(url: str, key: str) -> bool:
    """Is a push to the key running? (a per-file push beside it is refused key_busy)"""
    reply = push(url, key, tar_bytes({"probe.dcm": b"p"}), layout="objects")
    return reply.status_code == 409 and reply.json()["error"] == "key_busy"


def test_a_re_push_of_a_bundle_keeps_the_old_one_readable_until_the_new_one_is_stored(
    store: ObjectStore, tmp_path: Path
) -> None:
    with serve(store) as url:
        key = new_key()
        assert push(url, key, tar_bytes(OLD)).status_code == 201
        before = names(url, key)
        body = tar_bytes(NEW)
        sock = raw_upload(url, key, body[:4096], len(body), query="layout=bundle&replace=true")
        until(lambda: _busy(url, key), "the replacing push did not start")
        assert names(url, key) == before
        assert tree_digest(pulled(url, key, "tar", tmp_path / "during")) == _tree(
            tmp_path, OLD, "old"
        )
        one = httpx.get(f"{url}/api/v1/keys/{key}/input/old/03.dcm")
        assert one.status_code == 200 and one.content == OLD["old/03.dcm"]
        assert finish_upload(sock, body[4096:]) == 201
        assert tree_digest(pulled(url, key, "tar", tmp_path / "after")) == _tree(
            tmp_path, NEW, "new"
        )


def test_a_bundle_replacing_objects_hides_them_all_before_deleting_any(
    gated: tuple[GatedStore, str], tmp_path: Path
) -> None:
    gate, url = gated
    key = gate.container = new_key()
    assert push(url, key, tar_bytes(OLD), layout="objects").status_code == 201
    replies: list[httpx.Response] = []
    pusher = threading.Thread(
        target=lambda: replies.append(push(url, key, tar_bytes(NEW), replace="true"))
    )
    pusher.start()
    try:
        assert gate.reached.wait(30), "the push never deleted an old object"
        assert list(names(url, key)) == [BUNDLE]
        assert key_listing(url, key)["layouts"] == {"input": "bundle"}
        assert tree_digest(pulled(url, key, "zip", tmp_path / "during")) == _tree(
            tmp_path, NEW, "new"
        )
        assert httpx.get(f"{url}/api/v1/keys/{key}/input/old/05.dcm").status_code == 404
        assert httpx.get(f"{url}/api/v1/keys/{key}/input/new/b.dcm").content == NEW["new/b.dcm"]
    finally:
        gate.release.set()
        pusher.join(60)
    assert replies[0].status_code == 201, replies[0].text
    assert list(names(url, key)) == [BUNDLE]


def test_objects_replacing_a_bundle_appear_at_once_as_the_bundle_goes(
    gated: tuple[GatedStore, str], tmp_path: Path
) -> None:
    gate, url = gated
    key = gate.container = new_key()
    assert push(url, key, tar_bytes(OLD)).status_code == 201
    replies: list[httpx.Response] = []
    pusher = threading.Thread(
        target=lambda: replies.append(
            push(url, key, tar_bytes(NEW), layout="objects", replace="true")
        )
    )
    pusher.start()
    try:
        assert gate.reached.wait(30), "the push never deleted the old bundle"
        assert set(names(url, key)) == {f"input/{name}" for name in NEW}
        assert tree_digest(pulled(url, key, "tar", tmp_path / "during")) == _tree(
            tmp_path, NEW, "new"
        )
    finally:
        gate.release.set()
        pusher.join(60)
    assert replies[0].status_code == 201, replies[0].text


def test_old_objects_that_cannot_be_deleted_after_a_bundle_replaced_them_are_logged(
    gated: tuple[GatedStore, str], caplog: pytest.LogCaptureFixture
) -> None:
    gate, url = gated
    key = gate.container = new_key()
    assert push(url, key, tar_bytes(OLD), layout="objects").status_code == 201
    gate.fail = True
    with caplog.at_level(logging.ERROR, logger="radswift.services.ioh"):
        reply = push(url, key, tar_bytes(NEW), replace="true")
    assert reply.status_code == 201, reply.text  # the new bundle is live
    assert any(
        f"{len(OLD)} of {len(OLD)} replaced objects" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.ERROR
    )
    listing = key_listing(url, key)
    assert listing["layouts"] == {"input": "mixed"}
    pull = httpx.get(f"{url}/api/v1/keys/{key}/input", params={"format": "tar"})
    assert pull.status_code == 409 and pull.json()["error"] == "mixed_layout"


def test_a_bundle_push_never_runs_beside_a_per_file_push(store: ObjectStore) -> None:
    with serve(store) as url:
        key = new_key()
        body = tar_bytes({"slow.dcm": b"s" * 10_000})
        sock = raw_upload(url, key, b"", len(body), query="layout=objects")
        until(
            lambda: httpx.delete(f"{url}/api/v1/keys/{key}").status_code == 409,
            "the per-file push did not start",
        )
        for replace in ("false", "true"):
            beside = push(url, key, tar_bytes({"b.dcm": b"b"}), replace=replace)
            assert beside.status_code == 409 and beside.json()["error"] == "key_busy"
        assert finish_upload(sock, body) == 201
        assert list(names(url, key)) == ["input/slow.dcm"]


def test_bundles_are_read_within_the_servers_limits_when_above_the_defaults(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 100 entries stands for the default cap, 300 for a server started with more
    monkeypatch.setattr(pull_bundle, "BUNDLE_LIMITS", ArchiveLimits(max_entries=100))
    files = {f"f{i:03d}.dcm": b"x" * 10 for i in range(150)}
    with serve(store, IohSettings(limits=ArchiveLimits(max_entries=300))) as url:
        key = new_key()
        assert push(url, key, tar_bytes(files)).status_code == 201
        for fmt in ("zip", "tar.gz"):
            reply = httpx.get(f"{url}/api/v1/keys/{key}/input", params={"format": fmt})
            assert reply.status_code == 200, fmt
        last = httpx.get(f"{url}/api/v1/keys/{key}/input/f149.dcm")
        assert last.status_code == 200 and last.content == b"x" * 10


def test_a_bundle_may_not_hold_the_bundle_name_at_its_top(store: ObjectStore) -> None:
    with serve(store) as url:
        key = new_key()
        reply = push(url, key, tar_bytes({".radswift-bundle.tar": b"x", "a.dcm": b"a"}))
        assert reply.status_code == 400 and reply.json()["error"] == "reserved_name"
        assert httpx.get(f"{url}/api/v1/keys/{key}").status_code == 404
        nested = push(url, key, tar_bytes({"sub/.radswift-bundle.tar": b"x"}))
        assert nested.status_code == 201, nested.text


def _flip_every_blob(root: Path) -> None:
    """Corrupt every stored object of a LocalStore on disk (one byte in its middle)."""
    for blob in (root / "blobs").rglob("*"):
        if blob.is_file() and blob.stat().st_size:
            data = bytearray(blob.read_bytes())
            data[len(data) // 2] ^= 0xFF
            blob.write_bytes(bytes(data))


def _download_breaks(url: str, **params: str) -> bool:
    """True if the download ends short (the server aborted it), False if it completes."""
    try:
        with httpx.stream("GET", url, params=params, timeout=30) as reply:
            for _ in reply.iter_bytes():
                pass
    except httpx.RemoteProtocolError:
        return True
    return False


def test_corrupt_stored_bytes_never_come_out_as_a_complete_download(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    try:
        with serve(store) as url:
            bundle_key, objects_key = new_key(), new_key()
            assert push(url, bundle_key, tar_bytes(NEW)).status_code == 201
            assert push(url, objects_key, tar_bytes(NEW), layout="objects").status_code == 201
            _flip_every_blob(tmp_path / "store")
            for key in (bundle_key, objects_key):
                for fmt in ("tar", "zip", "tar.gz"):
                    assert _download_breaks(f"{url}/api/v1/keys/{key}/input", format=fmt), (
                        key,
                        fmt,
                    )
            assert _download_breaks(f"{url}/api/v1/keys/{objects_key}/input/new/a.dcm")
    finally:
        store.close()
