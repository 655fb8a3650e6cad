"""unpack_bundle and what is already in the destination (local-directory store).

Before the first file moves into place, every directory the bundle needs and every
file's place is checked: a symbolic link, or a file where a directory goes (or the
other way round), is an error that leaves the destination exactly as it was, and the
message names the destination path, never the hidden staging directory. Local I/O
trouble (a full disk, a file size limit) is a TransferError (exit 1), not a bad argument.
"""

from __future__ import annotations

import io
import os
import resource
import signal
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from radswift.bundle import bundle_object
from radswift.bundle.read import unpack_bundle
from radswift.errors import InvalidInput, TransferError
from radswift.store.local import LocalStore

KEY = "study-1"
NAME = bundle_object("input/")
MEMBERS = {"a.txt": b"new a", "b/c.txt": b"new c", "sub/x.txt": b"new x", "z.txt": b"new z"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    local = LocalStore(tmp_path / "store")
    local.ensure_container(KEY)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in MEMBERS.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    local.put_object(KEY, NAME, io.BytesIO(buffer.getvalue()), len(buffer.getvalue()))
    yield local
    local.close()


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under root: a file's text, a link's target, or 'dir'."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[rel] = "dir"
        else:
            found[rel] = path.read_text()
    return found


def make_dest(tmp_path: Path, setup: Callable[[Path], object]) -> Path:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "a.txt").write_text("old a")  # sorts before anything in the way below
    setup(dest)
    return dest


@pytest.mark.parametrize(
    ("setup", "in_the_way"),
    [
        (lambda d: (d / "z.txt").mkdir(), "z.txt"),  # a directory where a file goes
        (lambda d: (d / "sub").write_text("a file"), "sub"),  # a file where a directory goes
        (lambda d: (d / "sub").symlink_to(d.parent / "elsewhere"), "sub"),
        (lambda d: (d / "z.txt").symlink_to(d.parent / "elsewhere" / "secret"), "z.txt"),
    ],
    ids=["dir-for-file", "file-for-dir", "dir-symlink", "file-symlink"],
)
def test_anything_in_the_way_fails_before_a_single_file_is_moved(
    store: LocalStore, tmp_path: Path, setup: Callable[[Path], object], in_the_way: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret").write_text("keep me")
    dest = make_dest(tmp_path, setup)
    before = snapshot(dest)
    with pytest.raises(InvalidInput, match="in the way") as caught:
        unpack_bundle(store, KEY, NAME, dest)
    assert str(dest / in_the_way) in caught.value.message
    assert ".radswift-unpack" not in caught.value.message
    assert snapshot(dest) == before  # a.txt still the old one: nothing moved
    assert snapshot(elsewhere) == {"secret": "keep me"}


def test_files_already_there_are_replaced_and_others_kept(
    store: LocalStore, tmp_path: Path
) -> None:
    dest = make_dest(tmp_path, lambda d: (d / "stale.txt").write_text("earlier run"))
    unpack_bundle(store, KEY, NAME, dest)
    assert snapshot(dest) == {
        "a.txt": "new a", "b": "dir", "b/c.txt": "new c", "stale.txt": "earlier run",
        "sub": "dir", "sub/x.txt": "new x", "z.txt": "new z",
    }  # fmt: skip


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Files this process writes may not grow past `limit` bytes (EFBIG, as a full disk
    gives ENOSPC: a local write failure the kernel reports, even to root)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_local_write_failure_is_a_transfer_error_naming_the_destination(
    store: LocalStore, tmp_path: Path
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(TransferError) as caught, file_size_limit(2):
        unpack_bundle(store, KEY, NAME, dest)
    assert caught.value.exit_code == 1 and caught.value.reason == "local_write"
    assert str(dest / "a.txt") in caught.value.message
    assert ".radswift-unpack" not in caught.value.message
    assert list(dest.iterdir()) == []
