"""The publisher on the real local Swift: output/ as one tar, input bundles, no stale output.

`publish put --layout bundle` (or RADSWIFT_OUTPUT_LAYOUT=bundle) stores outgoing/ as the
single object `output/.radswift-bundle.tar` (an SLO when bigger than a segment) that
any Swift client can download and any tar can unpack; `publish get` unpacks
`input/.radswift-bundle.tar` beside the per-file objects, refusing a hostile bundle
and a path given twice. After a successful upload, whatever output/ held that this run
did not write is deleted, whichever layout wrote it, and the status object says which
layout output/ has and how many stale objects went. get and put run in-process with
the `none` wait strategy (the processor is not the point), except one CLI run.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from swiftclient.client import Connection

from radswift.bundle import BYTES_META, FILES_META, bundle_object
from radswift.bundle.write import write_bundle
from radswift.dev.swift import LocalSwift
from radswift.errors import InvalidInput, TransferError, UnsafeArchive
from radswift.publisher.config import PublisherConfig
from radswift.publisher.get import run_get
from radswift.publisher.put import run_put
from radswift.publisher.share import read_marker
from radswift.publisher.status import read_status
from radswift.publisher.wait import NoWait
from radswift.store import ObjectStore, open_store
from radswift.transfer import TransferOptions
from trees import make_tree, tree_of

pytestmark = pytest.mark.swift

RADSWIFT = str(Path(sys.executable).with_name("radswift"))
SEGMENT = 64 * 1024
OPTIONS = TransferOptions(segment_size=SEGMENT)
OUT_BUNDLE = bundle_object("output/")
IN_BUNDLE = bundle_object("input/")

TREE = {
    "series/IM-0001.dcm": os.urandom(20_000),
    "series/deeper/IM-0002.dcm": b"D" * 513,
    "résumé/名前 with space.txt": "non-ASCII ✓".encode(),
    "empty.dcm": b"",
}
EMPTY_DIRS = ("nothing", "series/also-nothing")


@pytest.fixture
def opener(local_swift: LocalSwift) -> Callable[[], ObjectStore]:
    return lambda: open_store(None, environ=local_swift.environ())


@pytest.fixture
def store(opener: Callable[[], ObjectStore]) -> Iterator[ObjectStore]:
    opened = opener()
    yield opened
    opened.close()


@pytest.fixture
def key(store: ObjectStore) -> str:
    """A fresh job key whose container exists (as `publish get` leaves it)."""
    name = f"bundle-{uuid.uuid4().hex[:10]}"
    store.ensure_container(name)
    return name


def config(tmp_path: Path, key: str, **env: str) -> PublisherConfig:
    base = {"RADSWIFT_KEY": key, "RADSWIFT_SHARE": str(tmp_path / "share"), "RADSWIFT_WAIT": "none"}
    return PublisherConfig.from_env({**base, **env})


EXPECTED = {**TREE, **dict.fromkeys(EMPTY_DIRS)}


def publish(
    tmp_path: Path,
    key: str,
    opener: Callable[[], ObjectStore],
    layout: str,
    files: dict[str, bytes],
) -> dict[str, Any]:
    """One job's put: outgoing/ holds exactly `files`; returns the status document."""
    cfg = config(tmp_path / uuid.uuid4().hex[:6], key, RADSWIFT_OUTPUT_LAYOUT=layout)
    make_tree(cfg.outgoing, files)
    run_put(cfg, opener, NoWait(), options=OPTIONS)
    return status_of(opener, key)


def status_of(opener: Callable[[], ObjectStore], key: str) -> dict[str, Any]:
    store = opener()
    try:
        return read_status(store, key)
    finally:
        store.close()


def output_names(swift: Connection, key: str) -> list[str]:
    _, listing = swift.get_container(key, prefix="output/", full_listing=True)
    return [item["name"] for item in listing]


def untar(data: bytes, dest: Path) -> dict[str, bytes | None]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        tar.extractall(dest, filter="data")
    return tree_of(dest)


# --- put --layout bundle ------------------------------------------------------------------


def test_a_bundle_put_is_one_tar_any_swift_client_reads_back_byte_for_byte(
    tmp_path: Path, key: str, opener: Callable[[], ObjectStore], swift: Connection
) -> None:
    cfg = config(tmp_path, key, RADSWIFT_OUTPUT_LAYOUT="bundle")
    make_tree(cfg.outgoing, TREE, EMPTY_DIRS)
    result = run_put(cfg, opener, NoWait(), options=OPTIONS)
    assert (result.state, result.files) == ("succeeded", len(TREE))
    assert output_names(swift, key) == [OUT_BUNDLE]
    headers, data = swift.get_object(key, OUT_BUNDLE)
    assert headers["x-object-meta-" + FILES_META] == str(len(TREE))
    assert headers["x-object-meta-" + BYTES_META] == str(sum(map(len, TREE.values())))
    assert untar(data, tmp_path / "untarred") == EXPECTED
    status = status_of(opener, key)
    assert status["state"] == "succeeded"
    assert (status["output"]["layout"], status["output"]["files"]) == ("bundle", len(TREE))


def test_a_bundle_bigger_than_a_segment_is_an_slo_that_comes_back_whole(
    tmp_path: Path,
    key: str,
    opener: Callable[[], ObjectStore],
    store: ObjectStore,
    swift: Connection,
) -> None:
    big = {f"s/{i:02d}.dcm": os.urandom(30_000 + i) for i in range(10)}  # ~300 KB: 5 segments
    status = publish(tmp_path, key, opener, "bundle", big)
    assert status["state"] == "succeeded"
    headers = swift.head_object(key, OUT_BUNDLE)
    assert headers.get("x-static-large-object") == "True"
    _, segments = swift.get_container(f"{key}_segments", full_listing=True)
    assert len(segments) == -(-int(headers["content-length"]) // SEGMENT)
    _, data = swift.get_object(key, OUT_BUNDLE)
    assert untar(data, tmp_path / "untarred") == big
    make_tree(tmp_path / "big", big)  # as input: get verifies it segment by segment
    assert write_bundle(store, key, "input/", tmp_path / "big", segment_size=SEGMENT).segments > 1
    cfg = config(tmp_path / "next", key)
    assert run_get(cfg, opener).files == len(big)
    assert tree_of(cfg.incoming) == big


# --- get of a bundled input ---------------------------------------------------------------


def test_get_unpacks_the_input_bundle_beside_the_per_file_objects(
    tmp_path: Path, key: str, opener: Callable[[], ObjectStore], store: ObjectStore
) -> None:
    make_tree(tmp_path / "bundled", TREE, EMPTY_DIRS)
    write_bundle(store, key, "input/", tmp_path / "bundled", segment_size=SEGMENT)
    store.put_object(key, "input/extra/loose.dcm", io.BytesIO(b"loose"), 5)
    cfg = config(tmp_path, key)
    result = run_get(cfg, opener)
    assert (result.files, result.bytes) == (len(TREE) + 1, sum(map(len, TREE.values())) + 5)
    assert tree_of(cfg.incoming) == {**EXPECTED, "extra/loose.dcm": b"loose"}


def test_a_path_both_in_the_bundle_and_an_object_of_its_own_fails_get(
    tmp_path: Path, key: str, opener: Callable[[], ObjectStore], store: ObjectStore
) -> None:
    make_tree(tmp_path / "bundled", {"a.dcm": b"bundled"})
    write_bundle(store, key, "input/", tmp_path / "bundled", segment_size=SEGMENT)
    store.put_object(key, "input/a.dcm", io.BytesIO(b"loose"), 5)
    cfg = config(tmp_path, key)
    with pytest.raises(UnsafeArchive, match=r"'a\.dcm' is both in the bundle and an object"):
        run_get(cfg, opener)
    assert tree_of(cfg.incoming) == {}
    assert read_marker(cfg.share.get_failed) is not None


def hostile_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("fine.dcm", b"fine"), ("../x", b"escaped")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_hostile_bundle_fails_get_clearly_and_writes_nothing_anywhere(
    tmp_path: Path, key: str, opener: Callable[[], ObjectStore], swift: Connection
) -> None:
    swift.put_container(key)
    swift.put_object(key, IN_BUNDLE, hostile_tar())  # put there by someone else
    cfg = config(tmp_path, key)
    with pytest.raises(UnsafeArchive, match=r"\.\.") as caught:
        run_get(cfg, opener)
    assert caught.value.exit_code == 2
    assert tree_of(cfg.incoming) == {}
    assert not (cfg.share.root / "x").exists() and not (tmp_path / "x").exists()
    assert not cfg.share.get_done.exists()
    assert read_marker(cfg.share.get_failed)["reason"] == "path_traversal"  # type: ignore[index]


# --- no stale output ----------------------------------------------------------------------


def test_a_rerun_in_the_objects_layout_deletes_the_previous_runs_files(
    tmp_path: Path, key: str, opener: Callable[[], ObjectStore], swift: Connection
) -> None:
    publish(tmp_path, key, opener, "objects", {"old.txt": b"1", "keep.txt": b"1", "d/x": b"1"})
    status = publish(tmp_path, key, opener, "objects", {"keep.txt": b"2", "new.txt": b"2"})
    assert output_names(swift, key) == ["output/keep.txt", "output/new.txt"]
    assert swift.get_object(key, "output/keep.txt")[1] == b"2"
    assert (status["state"], status["output"]["removed"]) == ("succeeded", 2)
    assert status["output"]["layout"] == "objects"


def test_a_rerun_in_the_bundle_layout_replaces_the_bundle_and_nothing_is_left(
    tmp_path: Path, key: str, opener: Callable[[], ObjectStore], swift: Connection
) -> None:
    publish(tmp_path, key, opener, "bundle", {f"{i}.dcm": os.urandom(40_000) for i in range(4)})
    status = publish(tmp_path, key, opener, "bundle", {"only.dcm": b"only"})
    assert output_names(swift, key) == [OUT_BUNDLE]
    assert untar(swift.get_object(key, OUT_BUNDLE)[1], tmp_path / "u") == {"only.dcm": b"only"}
    assert swift.get_container(f"{key}_segments")[1] == []  # the old SLO's segments went too
    assert status["output"]["removed"] == 0


def test_switching_layouts_leaves_only_the_new_layout(
    tmp_path: Path, key: str, opener: Callable[[], ObjectStore], swift: Connection
) -> None:
    publish(tmp_path, key, opener, "objects", {"a.dcm": b"a", "s/b.dcm": b"b"})
    to_bundle = publish(tmp_path, key, opener, "bundle", {"c.dcm": b"c"})
    assert output_names(swift, key) == [OUT_BUNDLE]
    assert (to_bundle["output"]["layout"], to_bundle["output"]["removed"]) == ("bundle", 2)
    to_objects = publish(tmp_path, key, opener, "objects", {"d.dcm": b"d"})
    assert output_names(swift, key) == ["output/d.dcm"]
    assert (to_objects["output"]["layout"], to_objects["output"]["removed"]) == ("objects", 1)


def test_a_failed_upload_deletes_nothing(
    tmp_path: Path, key: str, opener: Callable[[], ObjectStore], swift: Connection
) -> None:
    publish(tmp_path, key, opener, "objects", {"previous.txt": b"p"})
    cfg = config(tmp_path / "second", key)
    too_long = "/".join(["d" * 250] * 5) + "/f.txt"  # over Swift's 1024-byte object names
    make_tree(cfg.outgoing, {too_long: b"x"})
    with pytest.raises((InvalidInput, TransferError)):
        run_put(cfg, opener, NoWait(), options=OPTIONS)
    assert output_names(swift, key) == ["output/previous.txt"]
    status = status_of(opener, key)
    assert status["state"] == "upload-failed" and "removed" not in status["output"]


# --- the command line ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["--layout", "RADSWIFT_OUTPUT_LAYOUT"])
def test_publish_put_takes_the_layout_from_its_option_or_the_environment(
    tmp_path: Path, key: str, local_swift: LocalSwift, swift: Connection, how: str
) -> None:
    share = tmp_path / "share"
    make_tree(share / "outgoing", {"result.txt": b"42"})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ST_", "OS_", "RADSWIFT_"))}
    env.update(local_swift.environ(), RADSWIFT_KEY=key, RADSWIFT_SHARE=str(share))
    argv = [RADSWIFT, "publish", "put", "--wait", "none"]
    if how == "--layout":
        argv += ["--layout", "bundle"]
    else:
        env["RADSWIFT_OUTPUT_LAYOUT"] = "bundle"
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "(bundle)" in done.stderr
    assert output_names(swift, key) == [OUT_BUNDLE]


def test_an_unknown_layout_is_a_configuration_error(tmp_path: Path, key: str) -> None:
    env = {"RADSWIFT_KEY": key, "RADSWIFT_SHARE": str(tmp_path), "PATH": os.environ["PATH"]}
    argv = [RADSWIFT, "publish", "put", "--wait", "none", "--layout", "zip"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 78 and "unknown output layout 'zip'" in done.stderr


def test_a_name_a_bundle_cannot_hold_publishes_per_file_objects_instead(
    tmp_path: Path,
    key: str,
    opener: Callable[[], ObjectStore],
    swift: Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    publish(tmp_path, key, opener, "bundle", {"previous.dcm": b"p"})
    files = {"result.dcm": b"r", "T:1.dcm": b"a drive-letter-like name", "s/a\\b.txt": b"b"}
    status = publish(tmp_path, key, opener, "bundle", files)
    assert status["state"] == "succeeded"
    assert (status["output"]["layout"], status["output"]["requested_layout"]) == (
        "objects", "bundle",
    )  # fmt: skip
    assert "cannot be stored in a bundle" in status["output"]["layout_fallback"]
    assert output_names(swift, key) == sorted(f"output/{rel}" for rel in files)
    assert swift.get_object(key, "output/T:1.dcm")[1] == files["T:1.dcm"]
    assert status["output"]["removed"] == 1  # the previous run's bundle
    assert any("per-file objects" in r.getMessage() for r in caplog.records)
