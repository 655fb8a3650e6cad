"""Reading a bundle object: streamed through the safe archive reader, verified, unpacked whole.

A bundle is untrusted input (anyone with write access to the key may have put it), so
it goes through radswift.archive.iter_archive like an upload: names normalized and
confined, links and devices refused, sizes and counts capped. Its bytes are checked
against the store while they stream (the MD5 of a plain object, each segment's MD5 for
an SLO), and the check only completes at the end of the object: that is why
unpack_bundle stages every file under a hidden directory inside `dest_dir` and moves
the files into place only once the whole bundle has been read and verified. A hostile,
truncated or corrupt bundle leaves nothing behind. So does anything in the way in
`dest_dir` (a symbolic link, a file where the bundle has a directory or the other way
round): every place is checked before the first file is moved. Local I/O trouble (disk
full, permission) is a TransferError naming the destination path, never the staging one.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from radswift.archive import ArchiveEntry, ArchiveLimits, iter_archive
from radswift.archive.source import ChunkStream
from radswift.errors import InvalidInput, TransferError, UnsafeArchive
from radswift.store.base import ObjectStore
from radswift.transfer.hashing import VerifiedChunks

_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def iter_bundle(
    store: ObjectStore, key: str, name: str, limits: ArchiveLimits | None = None
) -> Iterator[tuple[ArchiveEntry, Iterator[bytes] | None]]:
    """Yield (entry, chunks) of the bundle object `name` in `key`, as iter_archive does.

    The store's checksums are verified when the iteration ends: an IntegrityError
    can come after the last entry, so commit nothing before the iteration is over."""
    with store.open_object(key, name) as reader:
        chunks = VerifiedChunks(reader)
        yield from iter_archive(ChunkStream(chunks), "tar", limits)
        chunks.finish()


@dataclass(frozen=True, slots=True, kw_only=True)
class UnpackResult:
    """What unpack_bundle wrote under dest_dir: relative paths of files and directories."""

    files: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    bytes: int = 0


def unpack_bundle(
    store: ObjectStore,
    key: str,
    name: str,
    dest_dir: Path,
    *,
    limits: ArchiveLimits | None = None,
    refuse: Collection[str] = frozenset(),
) -> UnpackResult:
    """Unpack the bundle object into `dest_dir`, all of it or (on any error while reading
    or verifying it, or anything in the way in `dest_dir`) nothing; only a local failure
    while moving files into place (disk gone, a concurrent change) can leave part of it.

    `refuse`: relative paths that must not be in the bundle (files the caller gets
    from elsewhere, e.g. per-file objects beside it); one of them is an UnsafeArchive.
    mtimes of the tar are kept. Raises InvalidInput (UnsafeArchive for hostile
    content; reason "in_the_way" for a link, file or directory where the bundle needs
    the other), TransferError (local I/O: disk full, permission; exit 1),
    IntegrityError, the store's errors."""
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _local_failure(name, dest_dir, dest_dir, exc) from None
    staging = dest_dir / f".radswift-unpack-{uuid.uuid4().hex[:12]}"
    try:
        staging.mkdir()
        result, mtimes = _stage(store, key, name, staging, limits, refuse)
        _check_destination(dest_dir, result)
        _commit(staging, dest_dir, result, mtimes)
    except OSError as exc:
        raise _local_failure(name, dest_dir, staging, exc) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _local_failure(name: str, dest: Path, staging: Path, exc: OSError) -> TransferError:
    """A local I/O error as a TransferError naming the real destination path, never the
    hidden staging directory the file was on its way through."""
    where = _outside_staging(exc.filename, dest, staging)
    why = exc.strerror or str(exc)
    if where == dest:
        return TransferError(f"cannot unpack {name} into {dest}: {why}", [(".", why)],
                             reason="local_write")  # fmt: skip
    rel = os.path.relpath(where, dest)
    return TransferError(
        f"cannot unpack {name} into {dest}: {where}: {why}", [(rel, why)], reason="local_write"
    )


def _outside_staging(filename: str | bytes | None, dest: Path, staging: Path) -> Path:
    if not filename:
        return dest
    path = Path(os.fsdecode(filename))
    try:
        return dest / path.relative_to(staging)
    except ValueError:
        return path


def _stage(
    store: ObjectStore,
    key: str,
    name: str,
    staging: Path,
    limits: ArchiveLimits | None,
    refuse: Collection[str],
) -> tuple[UnpackResult, dict[str, float]]:
    files: list[str] = []
    dirs: list[str] = []
    mtimes: dict[str, float] = {}
    total = 0
    for entry, chunks in iter_bundle(store, key, name, limits):
        if entry.path in refuse:
            raise UnsafeArchive(
                f"{entry.path!r} is both in the bundle and an object of its own",
                reason="duplicate_path",
            )
        target = staging / entry.path
        if chunks is None:
            target.mkdir(parents=True, exist_ok=True)
            dirs.append(entry.path)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            total += _write_file(target, chunks)
            files.append(entry.path)
        if entry.mtime is not None:
            mtimes[entry.path] = entry.mtime
    return UnpackResult(files=files, dirs=dirs, bytes=total), mtimes


def _write_file(target: Path, chunks: Iterator[bytes]) -> int:
    fd = os.open(target, _WRITE_FLAGS, 0o644)
    written = 0
    try:
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                n = os.write(fd, view)
                view = view[n:]
                written += n
    except OSError as exc:  # os.write names no file: say which one
        raise OSError(exc.errno, exc.strerror, os.fspath(target)) from None
    finally:
        os.close(fd)
    return written


def _check_destination(dest: Path, result: UnpackResult) -> None:
    """Before the first file moves: every directory the bundle needs is absent or a real
    directory (never a symbolic link: it would carry the bundle's files elsewhere), and
    every file's place is absent or a regular file (replaced). A clash leaves dest as it was."""
    dirs: set[str] = set()
    for rel in result.dirs:
        _check_dirs(dest, rel, dirs)
    for rel in result.files:
        parent = rel.rpartition("/")[0]
        if parent:
            _check_dirs(dest, parent, dirs)
        _check_place(dest / rel, stat.S_ISREG, "a file")


def _check_dirs(dest: Path, rel: str, seen: set[str]) -> None:
    """Check `rel` and its parents below dest; `seen` holds those known to be fine
    (existing directories, and everything below an absent one: they will be created)."""
    parts = rel.split("/")
    for depth in range(1, len(parts) + 1):
        here = "/".join(parts[:depth])
        if here in seen:
            continue
        if not _check_place(dest / here, stat.S_ISDIR, "a directory"):
            seen.update("/".join(parts[:d]) for d in range(depth, len(parts) + 1))
            return
        seen.add(here)


def _check_place(path: Path, wanted: Callable[[int], bool], what: str) -> bool:
    """True if `path` exists and is `what`, False if absent; InvalidInput if anything else."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False
    if not wanted(mode):
        kind = (
            "symbolic link" if stat.S_ISLNK(mode) else "directory" if stat.S_ISDIR(mode) else "file"
        )
        raise InvalidInput(
            f"{path} is in the way (a {kind}, where the bundle has {what}); nothing was unpacked",
            reason="in_the_way",
        )
    return True


def _commit(staging: Path, dest: Path, result: UnpackResult, mtimes: dict[str, float]) -> None:
    """Move every staged file to its place (replacing a file there), create the directories,
    then set the tar's mtimes (directories last, deepest first: a rename touches its parent)."""
    checked: set[Path] = set()
    for rel in result.files:
        target = dest / rel
        _real_dirs(dest, target.parent, checked)
        (staging / rel).replace(target)
        if rel in mtimes:
            os.utime(target, (mtimes[rel], mtimes[rel]))
    for rel in result.dirs:
        _real_dirs(dest, dest / rel, checked)
    for rel in sorted(result.dirs, key=lambda d: d.count("/"), reverse=True):
        if rel in mtimes:
            os.utime(dest / rel, (mtimes[rel], mtimes[rel]))


def _real_dirs(root: Path, path: Path, checked: set[Path]) -> None:
    """Create `path` below `root`, refusing to pass through a symbolic link or a file
    (a link planted in dest_dir must not carry a bundle's files elsewhere)."""
    if path in checked or path == root:
        return
    _real_dirs(root, path.parent, checked)
    try:
        path.mkdir()
    except FileExistsError:
        if path.is_symlink() or not path.is_dir():
            raise InvalidInput(
                f"{path} is in the way (a symbolic link or a file, not a directory)",
                reason="in_the_way",
            ) from None
    checked.add(path)
