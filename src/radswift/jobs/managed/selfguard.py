"""What pman does to itself at start-up so that the jobs it runs as host processes cannot
read it.

A local job with `--isolation none` is a process of pman's own user, and such a process
may read `/proc/<pman>/environ` (pman's tokens and cloud keys), `fd`, `root` and `mem`.
A process that is not *dumpable* (prctl PR_SET_DUMPABLE 0) has those files owned by
root and refused to every other non-root process. Its children are not affected: an
exec makes a process dumpable again, so the steps pman starts run as usual. Root reads
them anyway, which is why a pman running as root says so (its local jobs run as root).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3

log = logging.getLogger("radswift.services.man")


def make_undumpable() -> bool:
    """PR_SET_DUMPABLE 0 for this process; False where that is not possible (not Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        log.warning("cannot make pman undumpable: %s", os.strerror(ctypes.get_errno()))
        return False
    return bool(libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0)


def guard_service(backend: str) -> None:
    """Make pman unreadable to its jobs; warn when its local jobs would run as root."""
    make_undumpable()
    if backend == "local" and hasattr(os, "geteuid") and os.geteuid() == 0:
        log.warning(
            "pman runs as root: local jobs run as root too (bubblewrap drops their "
            "capabilities; with --isolation none nothing does): run pman as a dedicated user"
        )
