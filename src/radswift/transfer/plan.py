"""What a transfer will do, decided before any byte moves.

Uploads: one walk of the source tree (os.scandir, one lstat per entry, no re-stat
later) yields the regular files, the empty directories (kept as zero-byte `dir/`
markers, as the swift CLI does), and what is deliberately left out (symlinks unless
followed, fifos, sockets, devices) or unreadable. Every object name is validated
before the first upload, so a bad name fails the whole transfer with a clear error
instead of half of it.

Downloads: each object name is mapped to a path under the destination, refusing
names that would escape it (absolute, `..`, empty components).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from radswift.errors import InvalidInput, InvalidName
from radswift.names import validate_object_name

SEGMENT_NAME_OVERHEAD = 60
"""Bytes a segment name adds to its object's: `/slo/<mtime>/<size>/<segment size>/<index>`."""


@dataclass(frozen=True, slots=True)
class LocalFile:
    path: str
    """Where to read it (a str: cheaper than Path in loops over many files)."""
    rel: str
    """Its path relative to the source, '/'-separated."""
    size: int
    mtime: float


@dataclass(slots=True)
class UploadPlan:
    files: list[LocalFile] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    """Relative paths of empty directories, each ending in '/'."""
    ignored: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    root: str | None = None
    """The walked directory when links were not followed: files are then opened below
    it without following any (local_open.py); None opens them plainly."""

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def plan_upload(source: Path, *, follow_symlinks: bool = False) -> UploadPlan:
    """Walk `source` (a directory) once and sort its entries into an UploadPlan."""
    root = os.fspath(source)
    plan = UploadPlan(root=None if follow_symlinks else root)
    seen_dirs: set[tuple[int, int]] = set()
    stack: list[tuple[str, str]] = [(root, "")]
    while stack:
        path, rel = stack.pop()
        try:
            info = os.stat(path)  # noqa: PTH116 (str paths: cheaper in a walk)
            if (info.st_dev, info.st_ino) in seen_dirs:
                plan.ignored.append((rel or ".", "directory loop through a symbolic link"))
                continue
            seen_dirs.add((info.st_dev, info.st_ino))
            with os.scandir(path) as entries:
                children = list(entries)
        except OSError as exc:
            plan.failures.append((rel or ".", _os_reason(exc)))
            continue
        before = len(plan.files), len(stack)
        for entry in children:
            _classify(entry, rel + entry.name, plan, stack, follow_symlinks)
        if rel and (len(plan.files), len(stack)) == before:
            plan.markers.append(rel)
    return plan


def _classify(
    entry: os.DirEntry[str],
    rel: str,
    plan: UploadPlan,
    stack: list[tuple[str, str]],
    follow_symlinks: bool,
) -> None:
    try:
        if entry.is_symlink():
            if not follow_symlinks:
                plan.ignored.append((rel, "symbolic link (not followed)"))
                return
            info = entry.stat(follow_symlinks=True)
        else:
            info = entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        plan.failures.append((rel, "broken symbolic link or vanished file"))
        return
    except OSError as exc:
        plan.failures.append((rel, _os_reason(exc)))
        return
    if stat.S_ISDIR(info.st_mode):
        stack.append((entry.path, rel + "/"))
    elif stat.S_ISREG(info.st_mode):
        plan.files.append(LocalFile(entry.path, rel, info.st_size, info.st_mtime))
    else:
        plan.ignored.append((rel, f"special file ({_kind(info.st_mode)}), not a regular file"))


def validate_upload_names(plan: UploadPlan, prefix: str, segment_size: int) -> None:
    """Raise InvalidName listing every object name Swift would refuse, before any upload."""
    bad: list[str] = []
    for rel, size in [(f.rel, f.size) for f in plan.files] + [(m, 0) for m in plan.markers]:
        name = prefix + rel
        try:
            validate_object_name(name)
            if size > segment_size:
                validate_object_name(name + "x" * SEGMENT_NAME_OVERHEAD)
        except InvalidName as exc:
            bad.append(f"{_printable(rel)}: {exc.message}")
    if bad:
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise InvalidName(
            f"{len(bad)} file names cannot become object names; nothing was uploaded: "
            + "; ".join(bad[:5])
            + more
        )


def safe_relative_path(name: str, prefix: str) -> str:
    """The part of object `name` after `prefix`, if it stays inside a destination.

    Raises InvalidInput for names that are absolute, contain `..` or `.` or empty
    components, or would leave nothing to name a file."""
    rel = name[len(prefix) :]
    if rel.startswith("/"):
        raise InvalidInput("its name is absolute below the prefix; refusing to write outside")
    parts = rel.rstrip("/").split("/") if rel.rstrip("/") else []
    for part in parts:
        if part in ("", ".", ".."):
            raise InvalidInput(f"its name has a {part or 'empty'!r} component; refusing it")
    if "\\" in rel and os.sep == "\\":  # pragma: no cover - POSIX only today
        raise InvalidInput("its name contains a backslash")
    return rel


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "unknown type"


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _printable(rel: str) -> str:
    return rel.encode("utf-8", "backslashreplace").decode("utf-8")
