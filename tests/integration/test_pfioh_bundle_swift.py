"""The bundle layout as Swift itself holds it (checked with python-swiftclient, not with
radswift's own store code), and the legacy pfurl through a pfioh started with
`--layout bundle`."""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from bundle_helpers import (
    BUNDLE,
    EMPTY_DIRS,
    SMALL_SEGMENT,
    TREE,
    archive_of,
    names,
    pulled,
    push,
    raw_upload,
)
from pfioh_helpers import (
    new_key,
    open_backend,
    pfioh_process,
    run_pfurl,
    serve,
    tar_bytes,
    transfer_msg,
    tree_digest,
)
from swiftclient.client import Connection
from swiftclient.exceptions import ClientException

from radswift.generation import generations_prefix
from radswift.names import segments_container
from radswift.services.ioh import IohSettings, Tuning
from radswift.services.ioh.settings import DEFAULT_TRANSFER
from radswift.store.base import ObjectStore
from trees import make_tree


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "study", TREE, EMPTY_DIRS)


# -- what Swift itself holds ------------------------------------------------------------


@pytest.fixture
def swift_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    backend = open_backend("swift", request, tmp_path)
    try:
        yield backend
    finally:
        backend.close()


@pytest.mark.swift
def test_in_swift_the_bundle_is_one_plain_tar_object_with_its_counts(
    swift_store: ObjectStore, swift: Connection, source: Path
) -> None:
    with serve(swift_store) as url:
        key = new_key()
        assert push(url, key, archive_of(source, "zip"), "zip").status_code == 201
    _, objects = swift.get_container(key)
    assert [o["name"] for o in objects] == [BUNDLE]
    headers, body = swift.get_object(key, BUNDLE)
    assert headers["x-object-meta-radswift-bundle-files"] == str(len(TREE))
    assert headers["x-object-meta-radswift-bundle-bytes"] == str(sum(map(len, TREE.values())))
    assert headers["content-type"] == "application/x-tar"
    assert "x-static-large-object" not in headers
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert tar.format == tarfile.PAX_FORMAT
        files = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
        dirs = {m.name for m in tar if m.isdir()}
    assert files == TREE
    assert set(EMPTY_DIRS) <= dirs


@pytest.mark.swift
def test_in_swift_a_bundle_beyond_one_segment_is_a_large_object(
    swift_store: ObjectStore, swift: Connection, source: Path, tmp_path: Path
) -> None:
    with serve(
        swift_store,
        IohSettings(tuning=Tuning(transfer=replace(DEFAULT_TRANSFER, segment_size=SMALL_SEGMENT))),
    ) as url:
        key = new_key()
        assert push(url, key, archive_of(source, "tar")).status_code == 201
        headers = swift.head_object(key, BUNDLE)
        assert headers["x-static-large-object"].lower() == "true"
        assert headers["x-object-meta-radswift-bundle-files"] == str(len(TREE))
        _, segments = swift.get_container(segments_container(key))
        assert len(segments) >= 6  # ~400 KiB of tar in 64 KiB pieces
        assert tree_digest(pulled(url, key, "tar", tmp_path / "tar")) == tree_digest(source)
        assert tree_digest(pulled(url, key, "zip", tmp_path / "zip")) == tree_digest(source)
        data = TREE["series1/img001.dcm"]
        part = httpx.get(
            f"{url}/api/v1/keys/{key}/input/series1/img001.dcm",
            headers={"Range": "bytes=100000-199999"},
        )
        assert part.content == data[100_000:200_000]
        # replacing it leaves no segment of the old bundle behind
        assert push(url, key, tar_bytes({"a.dcm": b"small"}), replace="true").status_code == 201
        _, left = swift.get_container(segments_container(key))
        assert left == []
        assert "x-static-large-object" not in swift.head_object(key, BUNDLE)
        # and a per-file push replacing a large bundle deletes it with its segments
        assert push(url, key, archive_of(source, "tar"), replace="true").status_code == 201
        assert swift.get_container(segments_container(key))[1] != []
        reply = push(url, key, tar_bytes({"a.dcm": b"x"}), layout="objects", replace="true")
        assert reply.status_code == 201, reply.text
        stored = [o["name"] for o in swift.get_container(key)[1]]  # a replace generation
        assert stored[0] == "input/.radswift-current" and stored[1:] == [
            f"{generations_prefix('input/')}{stored[1].split('/')[2]}/a.dcm"
        ]
        assert swift.get_container(segments_container(key))[1] == []


def _gone(swift: Connection, container: str) -> bool:
    try:
        swift.head_container(container)
    except ClientException as exc:
        return bool(exc.http_status == 404)
    return False


@pytest.mark.swift
def test_in_swift_an_interrupted_bundle_push_leaves_nothing(
    swift_store: ObjectStore, swift: Connection
) -> None:
    files = {f"s/{i:03d}.dcm": os.urandom(200_000) for i in range(20)}
    body = tar_bytes(files)  # half of it is well beyond the tar writer's 1 MiB buffer
    with serve(
        swift_store,
        IohSettings(tuning=Tuning(transfer=replace(DEFAULT_TRANSFER, segment_size=SMALL_SEGMENT))),
    ) as url:
        key = new_key()
        sock = raw_upload(url, key, body[: len(body) // 2], len(body))
        try:
            deadline = time.monotonic() + 20
            while (
                _gone(swift, segments_container(key))
                or not swift.get_container(segments_container(key))[1]
            ):
                assert time.monotonic() < deadline, "no segment was written"
                time.sleep(0.1)
            assert httpx.get(f"{url}/api/v1/keys/{key}").json()["objects"] == []
        finally:
            sock.close()  # the client goes away mid-body
        deadline = time.monotonic() + 20
        while not (_gone(swift, key) and _gone(swift, segments_container(key))):
            assert time.monotonic() < deadline, "the half push was not removed"
            time.sleep(0.1)


# -- the legacy protocol --------------------------------------------------------------


def pfurl_transfer(pfurl: str, url: str, action: str, key: str, local: Path) -> dict[str, Any]:
    """pfurl's pushPath or pullPath of `local`; pfioh's reply."""
    out = run_pfurl(pfurl, url, transfer_msg(action, key, local), local.parent)
    reply: dict[str, Any] = json.loads(out)["stdout"]
    return reply


def test_pfurl_pushes_and_pulls_through_a_pfioh_started_with_layout_bundle(
    pfurl: str, tmp_path: Path, source: Path
) -> None:
    args = ["--forever", "--layout", "bundle", "--storeBase", str(tmp_path / "store")]
    with pfioh_process(args) as url:
        key = new_key()
        reply = pfurl_transfer(pfurl, url, "pushPath", key, source)
        assert reply["compress"]["remoteServer"]["status"] is True, reply
        assert list(names(url, key)) == [BUNDLE]
        pfurl_transfer(pfurl, url, "pushPath", key, source)  # a second push replaces the first
        assert list(names(url, key)) == [BUNDLE]
        # the job's results, bundled too; pfurl pulls them as its zip
        output = httpx.post(
            f"{url}/api/v1/keys/{key}/output",
            timeout=60,
            content=archive_of(source, "tar"),
            headers={"Content-Type": "application/x-tar"},
        )
        assert output.json()["layout"] == "bundle"
        assert pfurl_transfer(pfurl, url, "pullPath", key, tmp_path / "out")["status"] is True
    assert tree_digest(tmp_path / "out") == tree_digest(source)
