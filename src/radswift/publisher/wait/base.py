"""What a wait strategy promises: block until the processors end, and say how they ended.

`put` calls `wait(workers, deadline, found)` with the worker numbers it must see
terminate (its own, or all N for the uploader of a multi-worker job). A strategy:
- puts one `ProcessorOutcome` per worker into `found` as each terminates, and returns
  once every one of them has;
- raises DeadlineExceeded when `deadline` passes first, and WaitFailed when it cannot
  go on (the API refuses its token, the pod vanished); `found` then holds what is known
  so far, so that put can still publish and record it;
- never publishes or touches the store: waiting is all it does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from radswift.errors import DeadlineExceeded, WaitFailed


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessorOutcome:
    """How one worker's processor ended."""

    worker: int
    exit_code: int
    reason: str
    """Kubernetes' words where there are some: Completed, Error, OOMKilled, ...; else ours."""
    started_at: str | None = None
    finished_at: str | None = None
    log_tail: str | None = None
    """The end of what the processor printed (stdout and stderr; at most MAX_TAIL_LINES
    lines and MAX_TAIL_BYTES bytes), where the strategy could read it; None otherwise."""

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0

    def as_json(self) -> dict[str, object]:
        return {
            "worker": self.worker,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "log_tail": self.log_tail,
        }


MAX_TAIL_LINES = 50
MAX_TAIL_BYTES = 8192


def bounded_tail(data: bytes) -> str:
    """The last MAX_TAIL_LINES lines of the last MAX_TAIL_BYTES of `data`, as text."""
    text = data[-MAX_TAIL_BYTES:].decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    return "".join(lines[-MAX_TAIL_LINES:])


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point on the monotonic clock; `None` seconds means never."""

    at: float | None

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        return cls(None if seconds is None else time.monotonic() + seconds)

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None when there is no deadline."""
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    @property
    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at


class Waiter(Protocol):
    """Blocks until processors terminate. See the module docstring for the duties.

    Which waiter a pod uses is a `radswift.podcontract.WaitStrategy` (the one enum of
    strategies, RADSWIFT_WAIT); this is the interface each one implements."""

    @property
    def name(self) -> str: ...

    def wait(
        self, workers: Sequence[int], deadline: Deadline, found: dict[int, ProcessorOutcome]
    ) -> None: ...


WaitStrategy = Waiter
"""The former name of Waiter, kept for code written against it."""


class WaitInterrupted(WaitFailed):
    """The wait was stopped early (SIGTERM while waiting: see signals.py)."""


def deadline_error(
    waited_for: Sequence[int], found: dict[int, ProcessorOutcome]
) -> DeadlineExceeded:
    """The error for a deadline that passed, naming the workers still running."""
    missing = sorted(set(waited_for) - set(found))
    detail = (
        f" (workers still running: {', '.join(map(str, missing))})" if len(waited_for) > 1 else ""
    )
    return DeadlineExceeded(f"the deadline passed before the processor finished{detail}")


class NoWait:
    """`none`: the caller sequenced things (a local run); every processor counts as done.

    The exit code is unknown, so it is recorded as 0 with reason "NotWaited"."""

    name = "none"

    def wait(
        self, workers: Sequence[int], deadline: Deadline, found: dict[int, ProcessorOutcome]
    ) -> None:
        for w in workers:
            found[w] = ProcessorOutcome(worker=w, exit_code=0, reason="NotWaited")
