"""What the engine refuses or reports instead of transferring: links, special files,
bad names, names escaping the destination, corrupt or truncated downloads."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from radswift.errors import InvalidName, TransferError
from radswift.store import LocalStore
from radswift.transfer import TransferOptions, download_tree, upload_tree

SEGMENT = 64 * 1024
OPTIONS = TransferOptions(segment_size=SEGMENT, workers=4)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def blob_holding(store: LocalStore, data: bytes) -> Path:
    """The file on the local store's disk that holds `data` (to corrupt it)."""
    [path] = [
        p for p in (store.root / "blobs").rglob("*") if p.is_file() and p.read_bytes() == data
    ]
    return path


def test_symlinks_and_special_files_are_reported_and_skipped(
    store: LocalStore, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "real.txt").write_text("real")
    (src / "link.txt").symlink_to(src / "real.txt")
    os.mkfifo(src / "pipe")
    result = upload_tree(store, src, "job1", "", options=OPTIONS)
    assert result.files == 1 and result.failures == []
    assert [path for path, _ in result.ignored] == ["link.txt", "pipe"]
    assert "symbolic link" in result.ignored[0][1] and "fifo" in result.ignored[1][1]
    assert [i.name for i in store.list_objects("job1")] == ["real.txt"]


def test_follow_symlinks_uploads_what_they_point_to(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "outside.txt").write_text("linked")
    (src / "link.txt").symlink_to(tmp_path / "outside.txt")
    (src / "loop").symlink_to(src)
    follow = TransferOptions(follow_symlinks=True)
    result = upload_tree(store, src, "job1", "", options=follow)
    assert result.files == 1
    assert [path for path, _ in result.ignored] == ["loop/"]
    with store.open_object("job1", "link.txt") as reader:
        assert b"".join(reader.iter_chunks()) == b"linked"


def test_names_swift_would_refuse_stop_the_upload_before_it_starts(
    store: LocalStore, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "fine.txt").write_text("ok")
    with open(os.fsencode(src) + b"/latin1-\xe9.txt", "wb") as handle:
        handle.write(b"a name that is not UTF-8")
    with pytest.raises(InvalidName, match="nothing was uploaded") as caught:
        upload_tree(store, src, "job1", "input/", options=OPTIONS)
    assert "latin1-" in caught.value.message
    assert not store.container_exists("job1")
    with pytest.raises(InvalidName, match="longer than 1024"):
        upload_tree(store, src.parent / "src", "job1", "p" * 1020 + "/", options=OPTIONS)


def test_object_names_escaping_the_destination_are_refused(
    store: LocalStore, tmp_path: Path
) -> None:
    store.ensure_container("job1")
    for name in ["out/ok.txt", "out/../escaped.txt", "out//etc/passwd", "out/a/./b"]:
        store.put_object("job1", name, io.BytesIO(b"data"), 4)
    dest = tmp_path / "dest" / "inner"
    result = download_tree(store, "job1", "out/", dest, options=OPTIONS)
    assert result.files == 1
    assert {path for path, _ in result.failures} == {
        "out//etc/passwd",
        "out/../escaped.txt",
        "out/a/./b",
    }
    assert sorted(p.name for p in (tmp_path / "dest").rglob("*")) == ["inner", "ok.txt"]
    with pytest.raises(TransferError, match="3 of 4 files failed") as caught:
        result.raise_for_failures()
    assert len(caught.value.failures) == 3


def test_a_corrupted_object_is_detected_and_never_written(
    store: LocalStore, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "scan.dcm").write_bytes(b"original bytes")
    upload_tree(store, src, "job1", "", options=OPTIONS)
    blob_holding(store, b"original bytes").write_bytes(b"flipped! bytes")
    result = download_tree(store, "job1", "", tmp_path / "out", options=OPTIONS)
    [(path, reason)] = result.failures
    assert path == "scan.dcm" and "MD5" in reason
    assert list((tmp_path / "out").iterdir()) == []


def test_a_corrupted_segment_of_a_large_object_is_detected(
    store: LocalStore, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    data = os.urandom(SEGMENT * 2 + 10)
    (src / "brain.nii").write_bytes(data)
    upload_tree(store, src, "job1", "", options=OPTIONS)
    middle = data[SEGMENT : 2 * SEGMENT]
    blob_holding(store, middle).write_bytes(middle[::-1])
    result = download_tree(store, "job1", "", tmp_path / "out", options=OPTIONS)
    [(path, reason)] = result.failures
    assert path == "brain.nii" and "segment 1" in reason
    assert list((tmp_path / "out").iterdir()) == []


def test_a_partial_download_is_never_visible_under_its_final_name(
    store: LocalStore, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    data = os.urandom(3 * 1024 * 1024)
    (src / "big.bin").write_bytes(data)
    upload_tree(store, src, "job1", "", options=TransferOptions())
    out = tmp_path / "out"
    final = out / "big.bin"
    seen: list[tuple[bool, list[str]]] = []

    class Watch:
        def set_total(self, files: int, bytes: int) -> None: ...
        def file_done(self, path: str, ok: bool) -> None: ...
        def advance(self, nbytes: int) -> None:
            seen.append((final.exists(), [p.name for p in out.iterdir()]))

    blob_holding(store, data).write_bytes(data[: 2 * 1024 * 1024])  # truncated on disk
    result = download_tree(store, "job1", "", out, progress=Watch())
    assert [path for path, _ in result.failures] == ["big.bin"]
    assert len(seen) == 2 and not any(exists for exists, _ in seen)
    assert all(names[0].startswith(".big.bin.") for _, names in seen)
    assert list(out.iterdir()) == []


def test_an_object_beside_objects_under_its_name_is_reported_not_fatal(
    store: LocalStore, tmp_path: Path
) -> None:
    store.ensure_container("job1")
    for name in ["scan", "scan/1.dcm", "other.dcm"]:
        store.put_object("job1", name, io.BytesIO(b"data"), 4)
    result = download_tree(store, "job1", "", tmp_path / "out", options=OPTIONS)
    assert result.files == 2  # which of the two loses depends on timing; one does, clearly
    [(path, reason)] = result.failures
    assert path in ("scan", "scan/1.dcm") and "directory" in reason
    assert (tmp_path / "out" / "other.dcm").read_bytes() == b"data"


@pytest.mark.parametrize("size", [10, 3 * SEGMENT], ids=["small", "segmented"])
def test_a_file_swapped_for_a_symlink_after_the_plan_is_not_followed(
    store: LocalStore, tmp_path: Path, size: int
) -> None:
    """`publish put` plans outgoing/ with lstat, then opens each file: a processor still
    running could swap a planned file for a link to a secret in between."""
    from radswift.transfer.plan import plan_upload
    from radswift.transfer.upload import upload_plan

    src = tmp_path / "outgoing"
    src.mkdir()
    (src / "result.dcm").write_bytes(b"r" * size)
    secret = tmp_path / "secret.cfg"
    secret.write_bytes(b"s" * size)
    plan = plan_upload(src)
    (src / "result.dcm").unlink()
    (src / "result.dcm").symlink_to(secret)
    result = upload_plan(store, plan, "job1", "", options=OPTIONS)
    assert [path for path, _ in result.failures] == ["result.dcm"]
    assert [i.name for i in store.list_objects("job1")] == []
