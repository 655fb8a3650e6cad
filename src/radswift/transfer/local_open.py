"""Opening a planned file for upload without following links planted after the walk.

plan.py walks a tree once and leaves links out (unless asked to follow them). A
process that can still write to the tree (a job's processor, and /share/outgoing is
its own) could swap a planned file, or a directory above it, for a link between the
walk and the upload; a plain `open()` would follow it and upload whatever the link
points at (the publisher's credentials, say). So a planned file is opened one path
component at a time below the walk's root, each with O_NOFOLLOW, and must still be a
regular file of the planned size; otherwise the file fails (SourceChanged, reported
like any unreadable file) and nothing of the link's target is read.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

from radswift.transfer.plan import LocalFile

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC


class SourceChanged(OSError):
    """A planned file is no longer the regular file the walk saw (a link now, another
    kind of file, another size): an OSError, so the uploader reports it as a failure of
    that file and never retries it."""


def open_planned(file: LocalFile, root: str | None) -> BinaryIO:
    """`file` opened for reading: below `root` without following any link, or (root
    None: links are followed on purpose, or the file was named explicitly) plainly."""
    if root is None:
        return open(file.path, "rb")
    parts = file.rel.split("/")
    dir_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    try:
        for part in parts[:-1]:
            below = os.open(part, _DIR_FLAGS, dir_fd=dir_fd)
            os.close(dir_fd)
            dir_fd = below
        fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _changed(file, "is now a symbolic link (not followed)") from None
        raise
    finally:
        os.close(dir_fd)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size != file.size:
        os.close(fd)
        raise _changed(file, "is no longer the regular file it was when the upload began")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _changed(file: LocalFile, what: str) -> SourceChanged:
    return SourceChanged(errno.ESTALE, f"{file.rel} {what}", file.path)
