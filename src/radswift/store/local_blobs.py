"""The local store's blob files on disk: written crash-safely, orphans of crashes removed.

A put writes its temp file under the store's `tmp/` and holds it flock'ed until it is
renamed into `blobs/`; opening a store removes the temp files that are older than the
opening and that nobody holds locked (their writer died: the kernel dropped its lock).
See local.py for the layout.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from radswift.errors import IntegrityError

CHUNK = 1024 * 1024


def write_blob(body: BinaryIO, size: int, tmp: Path, final: Path) -> str:
    """Copy exactly `size` bytes of `body` to `tmp`, fsynced, then rename it to `final`,
    holding `tmp` locked throughout (see remove_orphans); return the bytes' MD5."""
    digest = hashlib.md5(usedforsecurity=False)
    remaining = size
    with _locked_new(tmp) as out:
        while remaining > 0:
            chunk = body.read(min(CHUNK, remaining))
            if not chunk:
                raise IntegrityError(f"the body ended after {size - remaining} of {size} bytes")
            digest.update(chunk)
            out.write(chunk)
            remaining -= len(chunk)
        os.fsync(out.fileno())
        final.parent.mkdir(exist_ok=True)
        tmp.rename(final)  # still locked: a sweep never takes a file being renamed
    return digest.hexdigest()


def _locked_new(tmp: Path, attempts: int = 5) -> BinaryIO:
    """`tmp` created and flock'ed. Another process opening the store may sweep a young
    file in the instant between its creation and its lock (remove_orphans cannot tell
    it from a dead writer's): then it is created again, now locked before any sweep."""
    for _ in range(attempts):
        out = open(tmp, "xb", buffering=0)  # noqa: SIM115 (returned open, the caller closes)
        fcntl.flock(out.fileno(), fcntl.LOCK_EX)
        try:
            if os.fstat(out.fileno()).st_ino == tmp.stat().st_ino:
                return out
        except FileNotFoundError:
            pass
        out.close()  # swept before it was locked
    raise FileNotFoundError(f"{tmp} was removed before it could be locked, {attempts} times")


def remove_orphans(tmp: Path, *, older_than: float) -> None:
    """Delete the temp files of puts whose writer died: older than `older_than` and not
    locked (a live writer holds its file's flock until the rename; the kernel drops the
    lock of a killed one). Young files may be another process's put just begun."""
    for path in tmp.iterdir():
        try:
            if path.stat().st_mtime >= older_than:
                continue
            with open(path, "rb") as orphan:
                try:
                    fcntl.flock(orphan.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live writer's
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue  # renamed or removed meanwhile
