"""The bundle layout through pfioh: a push stored as ONE tar object per area
(`<area>/.radswift-bundle.tar`), pulled back as any archive or file by file.

Against the local store and the real local Swift (what Swift itself holds, and the
legacy pfurl: test_pfioh_bundle_swift.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from bundle_helpers import (
    BUNDLE,
    EMPTY_DIRS,
    SMALL_SEGMENT,
    TREE,
    archive_of,
    key_listing,
    names,
    pulled,
    push,
    raw_upload,
    until,
)
from pfioh_helpers import (
    new_key,
    serve,
    tar_bytes,
    tree_digest,
)

from radswift.archive.limits import ArchiveLimits
from radswift.cli.app import run_app
from radswift.cli.main import app
from radswift.names import segments_container
from radswift.service_clients.pfioh import IohClient
from radswift.services.ioh import IohSettings, Tuning
from radswift.services.ioh.settings import DEFAULT_TRANSFER
from radswift.store.base import ObjectStore
from trees import make_tree


@pytest.fixture
def url(store: ObjectStore) -> Iterator[str]:
    with serve(store) as base:
        yield base


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "study", TREE, EMPTY_DIRS)


@pytest.mark.parametrize("kind", ["tar", "tar.gz", "zip"])
def test_an_archive_pushed_as_a_bundle_round_trips_byte_for_byte(
    url: str, source: Path, tmp_path: Path, kind: str
) -> None:
    key = new_key()
    reply = push(url, key, archive_of(source, kind), kind)
    assert reply.status_code == 201, reply.text
    assert reply.json()["layout"] == "bundle" and reply.json()["files"] == len(TREE)
    listing = key_listing(url, key)
    assert [o["name"] for o in listing["objects"]] == [BUNDLE]  # type: ignore[attr-defined]
    assert listing["layouts"] == {"input": "bundle"}
    bundle = listing["objects"][0]  # type: ignore[index]
    assert bundle["bundle_files"] == len(TREE)
    assert bundle["bundle_bytes"] == sum(len(d) for d in TREE.values())
    for fmt in ("tar", "zip", "tar.gz"):
        assert tree_digest(pulled(url, key, fmt, tmp_path / fmt)) == tree_digest(source), fmt


def test_a_multipart_push_as_a_bundle_round_trips(url: str, tmp_path: Path) -> None:
    key = new_key()
    files = [("file", (name, data)) for name, data in TREE.items()]
    reply = httpx.post(
        f"{url}/api/v1/keys/{key}/input", files=files, params={"layout": "bundle"}, timeout=60
    )
    assert reply.status_code == 201, reply.text
    assert list(names(url, key)) == [BUNDLE]
    back = pulled(url, key, "tar", tmp_path / "back")
    assert tree_digest(back) == tree_digest(make_tree(tmp_path / "want", TREE))


def test_the_client_and_the_cli_push_a_bundle_and_pull_it_unpacked(
    url: str, source: Path, tmp_path: Path
) -> None:
    key = new_key()
    with IohClient(url) as client:
        assert client.push(key, source, layout="bundle")["layout"] == "bundle"
        assert [o["name"] for o in client.list(key)["objects"]] == [BUNDLE]
        result = client.pull(key, tmp_path / "back", area="input")
    assert tree_digest(tmp_path / "back") == tree_digest(source)
    assert result.files == len(TREE)
    cli_key = new_key()
    assert run_app(app, ["push", cli_key, str(source), "--ioh", url, "--layout", "bundle"]) == 0
    assert list(names(url, cli_key)) == [BUNDLE]
    assert (
        run_app(app, ["pull", cli_key, str(tmp_path / "cli"), "--ioh", url, "--area", "input"]) == 0
    )
    assert tree_digest(tmp_path / "cli") == tree_digest(source)


def test_single_files_and_ranges_are_read_out_of_the_bundle(url: str, source: Path) -> None:
    key = new_key()
    assert push(url, key, archive_of(source, "tar")).status_code == 201
    base = f"{url}/api/v1/keys/{key}/input"
    data = TREE["series1/deeper/nested/img002.dcm"]
    whole = httpx.get(f"{base}/series1/deeper/nested/img002.dcm")
    assert whole.status_code == 200 and whole.content == data
    part = httpx.get(
        f"{base}/series1/deeper/nested/img002.dcm", headers={"Range": "bytes=1000-68999"}
    )
    assert part.status_code == 206 and part.content == data[1000:69000]
    assert part.headers["Content-Range"] == f"bytes 1000-68999/{len(data)}"
    tail = httpx.get(f"{base}/notes.txt", headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == TREE["notes.txt"][-5:]
    unicode = httpx.get(f"{base}/Ünïcødé/名前 with space.dcm")
    assert unicode.content == TREE["Ünïcødé/名前 with space.dcm"]
    head = httpx.head(f"{base}/series1/img001.dcm")
    assert head.status_code == 200 and head.headers["Content-Length"] == "300000"
    assert httpx.get(f"{base}/series1/absent.dcm").status_code == 404
    assert httpx.get(f"{base}/void").status_code == 404  # a directory is not a file
    outside = httpx.get(f"{base}/notes.txt", headers={"Range": "bytes=999-"})
    assert outside.status_code == 416


def test_layouts_never_mix_without_replace(url: str, source: Path) -> None:
    objects_key, bundle_key = new_key(), new_key()
    body = archive_of(source, "tar")
    assert push(url, objects_key, body, layout="objects").status_code == 201
    assert push(url, bundle_key, body).status_code == 201
    before = (names(url, objects_key), names(url, bundle_key))
    for key, layout in ((objects_key, "bundle"), (bundle_key, "objects"), (bundle_key, "bundle")):
        reply = push(url, key, tar_bytes({"other.dcm": b"x"}), layout=layout)
        assert reply.status_code == 409, (key, layout)
        assert reply.json()["error"] == "area_not_empty"
    single = httpx.put(f"{url}/api/v1/keys/{bundle_key}/input/added.dcm", content=b"x")
    assert single.status_code == 409
    assert (names(url, objects_key), names(url, bundle_key)) == before


def test_replace_switches_the_layout_both_ways(url: str, source: Path, tmp_path: Path) -> None:
    key = new_key()
    assert push(url, key, archive_of(source, "tar"), layout="objects").status_code == 201
    new_tree = {"only/this.dcm": os.urandom(5000)}
    reply = push(url, key, tar_bytes(new_tree), replace="true")
    assert reply.status_code == 201, reply.text
    assert list(names(url, key)) == [BUNDLE]
    want = tree_digest(make_tree(tmp_path / "want", new_tree))
    assert tree_digest(pulled(url, key, "tar", tmp_path / "b")) == want
    reply = push(url, key, archive_of(source, "tar"), layout="objects", replace="true")
    assert reply.status_code == 201, reply.text
    assert BUNDLE not in names(url, key)
    assert tree_digest(pulled(url, key, "tar", tmp_path / "o")) == tree_digest(source)


HOSTILE: dict[str, Callable[[], bytes]] = {
    "escaping path": lambda: tar_bytes({"ok.dcm": b"fine", "../x": b"evil"}),
    "truncated": lambda: tar_bytes({"a.dcm": os.urandom(100_000)})[:50_000],
    "corrupt gzip": lambda: tar_bytes({"a.dcm": b"a" * 10_000}, gz=True)[:-12] + b"\0" * 12,
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_refused_bundle_push_leaves_the_existing_bundle_untouched(
    url: str, source: Path, case: str
) -> None:
    key = new_key()
    assert push(url, key, archive_of(source, "tar")).status_code == 201
    before = names(url, key)
    kind = "tar.gz" if "gzip" in case else "tar"
    reply = push(url, key, HOSTILE[case](), kind, replace="true")
    assert reply.status_code == 400, reply.text
    assert names(url, key) == before
    fresh = new_key()
    assert push(url, fresh, HOSTILE[case](), kind).status_code == 400
    assert httpx.get(f"{url}/api/v1/keys/{fresh}").status_code == 404


def test_a_breached_limit_stores_nothing(store: ObjectStore) -> None:
    files = {f"s/{i:02d}.dcm": os.urandom(30_000) for i in range(10)}  # 300 kB
    limits = ArchiveLimits(max_total_bytes=200_000)
    settings = IohSettings(
        limits=limits, tuning=Tuning(transfer=replace(DEFAULT_TRANSFER, segment_size=SMALL_SEGMENT))
    )
    with serve(store, settings) as url:
        key = new_key()
        assert push(url, key, tar_bytes({"a.dcm": b"a" * 1000})).status_code == 201
        before = names(url, key)
        # declared sizes (tar), and sizes known only as the bytes come (multipart); both
        # breach the limit after a few segments of the new bundle were stored
        reply = push(url, key, tar_bytes(files), replace="true")
        assert reply.status_code == 413, reply.text
        reply = httpx.post(
            f"{url}/api/v1/keys/{key}/input",
            timeout=60,
            params={"layout": "bundle", "replace": "true"},
            files=[("file", item) for item in files.items()],
        )
        assert reply.status_code == 413, reply.text
        assert names(url, key) == before
        segments = segments_container(key)
        assert not store.container_exists(segments) or not list(store.list_objects(segments))


def test_a_pfioh_started_with_layout_bundle_stores_bundles_by_default(
    store: ObjectStore, source: Path, tmp_path: Path
) -> None:
    with serve(store, IohSettings(layout="bundle")) as url:
        key = new_key()
        reply = httpx.post(
            f"{url}/api/v1/keys/{key}/input",
            content=archive_of(source, "tar"),
            headers={"Content-Type": "application/x-tar"},
            timeout=60,
        )
        assert reply.status_code == 201 and reply.json()["layout"] == "bundle"
        assert list(names(url, key)) == [BUNDLE]
        objects_key = new_key()
        assert push(url, objects_key, tar_bytes({"a": b"1"}), layout="objects").status_code == 201
        assert list(names(url, objects_key)) == ["input/a"]


def test_a_running_bundle_push_is_invisible_and_keeps_other_writers_out(url: str) -> None:
    files = {f"s/{i:03d}.dcm": os.urandom(200_000) for i in range(10)}
    body = tar_bytes(files)
    key = new_key()
    sock = raw_upload(url, key, body[: len(body) // 2], len(body))
    try:
        until(
            lambda: httpx.get(f"{url}/api/v1/keys/{key}").status_code == 200,
            "the push did not start",
        )
        assert names(url, key) == {}
        again = push(url, key, tar_bytes({"b.dcm": b"b"}))
        assert again.status_code == 409 and again.json()["error"] == "key_busy"
        beside = push(url, key, tar_bytes({"b.dcm": b"b"}), layout="objects")
        assert beside.status_code == 409 and beside.json()["error"] == "key_busy"
        single = httpx.put(f"{url}/api/v1/keys/{key}/input/b.dcm", content=b"b")
        assert single.status_code == 409
    finally:
        sock.close()  # the client goes away mid-body
    until(
        lambda: httpx.get(f"{url}/api/v1/keys/{key}").status_code == 404,
        "the unfinished push left its key behind",
    )
