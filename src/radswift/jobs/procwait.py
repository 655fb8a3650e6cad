"""Waiting for a process to end, woken by the kernel rather than by a timer.

The local job driver waits for each step's process, for a child it started as for one
it found running after a restart (not its child: `waitpid` cannot wait for it), and
with a deadline when it has to stop the processor itself. Polling (`Popen.wait` with a
timeout sleeps up to 50 ms between looks; a non-child was looked at every 0.1 s) adds
that much to every job's latency and wakes the thread for nothing meanwhile. A pidfd
(Linux 5.3+) becomes readable the moment the process ends, child or not; where there
is none (older kernels, a sandbox refusing the call) this falls back to polling.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable

FALLBACK_POLL = 0.1
"""Seconds between looks where no pidfd can be had."""


def wait_for_exit(pid: int, ended: Callable[[], bool], timeout: float | None) -> bool:
    """True once `ended()` says process `pid` is over, False if `timeout` seconds passed
    first (None: no limit). `ended` is the caller's test (`Popen.poll`, which also reaps
    a child; or a look at /proc for another's process), asked whenever the kernel says
    the process ended, and once at the start."""
    until = None if timeout is None else time.monotonic() + timeout
    fd = _pidfd(pid)
    poller = select.poll()  # not select(): a descriptor may be above FD_SETSIZE
    if fd is not None:
        poller.register(fd, select.POLLIN)
    try:
        while not ended():
            remaining = None if until is None else until - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            if fd is None:
                time.sleep(FALLBACK_POLL if remaining is None else min(FALLBACK_POLL, remaining))
            elif poller.poll(None if remaining is None else max(1, int(remaining * 1000))):
                poller.unregister(fd)  # it ended: `ended()` says so now (were it not to,
                os.close(fd)  # the clock takes over rather than a pidfd readable for ever)
                fd = None
        return True
    finally:
        if fd is not None:
            os.close(fd)


def _pidfd(pid: int) -> int | None:
    """A pidfd of `pid`, None if the process is gone or pidfds cannot be had here."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # gone (ESRCH), or no pidfd_open here
        return None
