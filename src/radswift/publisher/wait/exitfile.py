"""`exitfile`: wait for the exit-code files the emissary writes into /share/.radswift.

Files are polled every `interval` seconds (0.2 s: a stat per worker, negligible next
to a processor's run time; inotify would save little and does not work across the
nodes that share a ReadWriteMany volume). The emissary renames a complete file into
place, so a file that exists is whole. A file holding just an integer (say, written
by a shell wrapper `echo $? > ...`) is accepted too.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from radswift.errors import WaitFailed
from radswift.podcontract.share import ShareLayout, read_control_file
from radswift.publisher.wait.base import (
    MAX_TAIL_BYTES,
    Deadline,
    ProcessorOutcome,
    bounded_tail,
    deadline_error,
)

DEFAULT_INTERVAL = 0.2


class ExitFileWait:
    """Waits for `exitcode[.<i>]` files under the share's control directory."""

    name = "exitfile"

    def __init__(
        self, share: ShareLayout, *, indexed: bool, interval: float = DEFAULT_INTERVAL
    ) -> None:
        self._share = share
        self._indexed = indexed
        self._interval = interval

    def wait(
        self, workers: Sequence[int], deadline: Deadline, found: dict[int, ProcessorOutcome]
    ) -> None:
        while True:
            for worker in workers:
                if worker not in found:
                    outcome = self._read(worker)
                    if outcome is not None:
                        found[worker] = outcome
            if all(w in found for w in workers):
                return
            if deadline.passed:
                raise deadline_error(workers, found)
            remaining = deadline.remaining()
            time.sleep(self._interval if remaining is None else min(self._interval, remaining))

    def _read(self, worker: int) -> ProcessorOutcome | None:
        index = worker if self._indexed else None
        for path in self._share.exitcode_files(index):
            outcome = parse_exit_file(path, worker)
            if outcome is not None:
                return outcome
        return None


def parse_exit_file(path: Path, worker: int) -> ProcessorOutcome | None:
    """The outcome recorded in `path` (with the output tail the emissary wrote beside it,
    `<path>.tail`), None if absent. WaitFailed if it is unreadable."""
    outcome = _parse_exit_code(path, worker)
    if outcome is None:
        return None
    return replace(outcome, log_tail=read_tail(path.with_name(path.name + TAIL_SUFFIX)))


TAIL_SUFFIX = ".tail"


def read_tail(path: Path) -> str | None:
    """The bounded tail in `path` (only its last MAX_TAIL_BYTES are read), None if absent."""
    try:  # in the world-writable control directory: never follow a link nor block on a FIFO
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        size = handle.seek(0, 2)
        handle.seek(max(0, size - MAX_TAIL_BYTES))
        return bounded_tail(handle.read(MAX_TAIL_BYTES))


def _parse_exit_code(path: Path, worker: int) -> ProcessorOutcome | None:
    try:
        data = read_control_file(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WaitFailed(f"cannot read the exit-code file {path}: {exc.strerror}") from None
    except ValueError as exc:  # JSONDecodeError included
        raise WaitFailed(f"the exit-code file {path} holds not an exit code: {exc}") from None
    if isinstance(data, int) and not isinstance(data, bool):
        return ProcessorOutcome(
            worker=worker, exit_code=data, reason="Completed" if data == 0 else "Error"
        )
    if isinstance(data, dict) and isinstance(data.get("exit_code"), int):
        return ProcessorOutcome(
            worker=worker,
            exit_code=data["exit_code"],
            reason=str(data.get("reason") or ("Completed" if data["exit_code"] == 0 else "Error")),
            started_at=_opt_str(data.get("started_at")),
            finished_at=_opt_str(data.get("finished_at")),
        )
    raise WaitFailed(f"the exit-code file {path} does not hold an exit code")


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def wait_for_marker(path: Path, deadline: Deadline, interval: float = DEFAULT_INTERVAL) -> bool:
    """Poll until `path` exists; False if the deadline passed first."""
    while not path.exists():
        if deadline.passed:
            return False
        remaining = deadline.remaining()
        time.sleep(interval if remaining is None else min(interval, remaining))
    return True
