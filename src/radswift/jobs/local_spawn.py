"""How the local backend starts one step's process (radswift.jobs.local_run drives them).

A step's program can be a file written a moment ago in this very process: get, run in
pman's own process (radswift.jobs.local_inproc), copies the emissary into the job's
share. While it writes it, another thread may fork a step of another job; that child
holds the write descriptor until it execs (close_fds), and an exec of the emissary in
that window fails with ETXTBSY ("Text file busy"). The copy and every fork-to-exec
here hold one lock (podcontract.emissary.SPAWN_LOCK), which closes that window; should
another writer open one, the start is tried again a few times, briefly, as Go's os/exec
does.
"""

from __future__ import annotations

import errno
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from radswift.podcontract.emissary import SPAWN_LOCK

BUSY_RETRIES = 6
BUSY_FIRST_WAIT = 0.01
"""Seconds before the first retry after ETXTBSY; doubled each time (0.63 s in all)."""


def spawn_step(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: IO[bytes], hold_sigterm: bool
) -> subprocess.Popen[bytes]:
    """Start a step in its own session (stopped as one process group). Publish starts
    with SIGTERM blocked: one sent before it installed its handler stays pending until it
    has (radswift.publisher.wait.signals unblocks it), instead of killing it unpublished.
    The mask is this thread's, inherited by the child; the parent's handling is unchanged.
    OSError if it cannot start (after the ETXTBSY retries)."""
    wait = BUSY_FIRST_WAIT
    for _ in range(BUSY_RETRIES):
        try:
            return _popen(argv, env, cwd, log, hold_sigterm)
        except OSError as err:
            if err.errno != errno.ETXTBSY:
                raise
        time.sleep(wait)
        wait *= 2
    return _popen(argv, env, cwd, log, hold_sigterm)  # the last try: its error is the step's


def _popen(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: IO[bytes], hold_sigterm: bool
) -> subprocess.Popen[bytes]:
    held = {signal.SIGTERM, signal.SIGINT} if hold_sigterm else set()
    SPAWN_LOCK.acquire()  # no emissary copy open for writing while a child forks
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        return subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        SPAWN_LOCK.release()
