"""The one retry policy of radswift: every Swift request goes through `run_with_retries`,
and a resumed download counts its resumptions with the same `Backoff`.

Policy (python-swiftclient's, minus its sprawl): capped exponential backoff with jitter;
retry connection failures, 5xx, 429 and 498 (rate limited); a 401 is answered by
re-authenticating once inside an attempt (see client.py), never by backing off. Callers
above the Swift layer never retry a store call.

Giving up is said once, in the words of the last failure plus how often and how long we
tried, e.g. `cannot reach Swift auth at http://127.0.0.1:9 (connection refused) after 7
attempts over 19 s (--retries or RADSWIFT_RETRIES); check ST_AUTH`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from radswift.errors import StorageError, StorageUnavailable
from radswift.swift.http import Unreachable

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 7
DEFAULT_BASE_DELAY = 0.5
DEFAULT_MAX_DELAY = 10.0
RETRIES_KNOB = "--retries or RADSWIFT_RETRIES"
"""Where a user sets the number of attempts (the CLI option, or the environment variable
every radswift command and service reads); named in the message that gives up."""
RETRYABLE_STATUSES = frozenset({429, 498})
"""Besides every 5xx: rate limiting (498 is Swift's historical 'rate limited')."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently to retry.

    With the defaults, the attempts span 13-25 s of backoff (jitter decides): long enough
    for a proxy restart, short enough to give up on a dead store within a minute. Users
    set `max_attempts` with --retries or RADSWIFT_RETRIES (read in cli/, given to open_store)."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base_delay: float = DEFAULT_BASE_DELAY
    max_delay: float = DEFAULT_MAX_DELAY

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("need 0 <= base_delay <= max_delay")

    def delay(self, retry: int, rand: float, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (0-based), given `rand` in [0, 1).

        "Equal jitter": half the capped exponential step is fixed, half random, so
        concurrent workers spread out yet none retries at once. A server's Retry-After
        is honoured up to `max_delay`."""
        step = min(self.max_delay, self.base_delay * (2.0**retry))
        wait = step / 2 + rand * step / 2
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return wait


def is_retryable_status(status: int) -> bool:
    """Statuses worth another attempt after backing off."""
    return status >= 500 or status in RETRYABLE_STATUSES


class Retry(Exception):
    """Raised by an attempt to ask `run_with_retries` for another one.

    `cause` is the error to report if no attempt is left."""

    def __init__(self, cause: StorageError, *, retry_after: float | None = None) -> None:
        super().__init__(cause.message)
        self.cause = cause
        self.retry_after = retry_after


def run_with_retries(
    policy: RetryPolicy,
    attempt: Callable[[int], T],
    *,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call `attempt(n)` until it returns, raises a final error, or attempts run out.

    `attempt` raises `Retry` for a transient failure; anything else propagates. When the
    last attempt fails, StorageUnavailable says what failed, how often and for how long."""
    backoff = Backoff(policy, what=what, sleep=sleep, rand=rand, clock=clock)
    n = 0
    while True:
        try:
            return attempt(n)
        except Retry as signal:
            backoff.failed(signal.cause, signal.retry_after)
        n += 1


class Backoff:
    """The attempts of one operation under a policy: a wait before each retry, one
    StorageUnavailable when none is left.

    `run_with_retries` drives one request with it; a download resumed after each broken
    stream (reader.py) keeps one for its whole life, so the same policy bounds both."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        what: str,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy, self._what = policy, what
        self._sleep, self._rand, self._clock = sleep, rand, clock
        self._started = clock()
        self.failures = 0

    def failed(self, cause: StorageError, retry_after: float | None = None) -> None:
        """Count a failed attempt: wait before the next one, or raise (gave_up) if the
        policy allows no more."""
        self.failures += 1
        if self.failures >= self._policy.max_attempts:
            elapsed = self._clock() - self._started
            raise gave_up(cause, self.failures, elapsed) from None
        wait = self._policy.delay(self.failures - 1, self._rand(), retry_after)
        log.info(
            "retrying %s in %.1f s (attempt %d): %s",
            self._what,
            wait,
            self.failures + 1,
            cause.message,
        )
        self._sleep(wait)


def gave_up(cause: StorageError, attempts: int, seconds: float) -> StorageUnavailable:
    """The error for the last failed attempt, saying once how often and how long we tried.

    A connection failure reads `cannot reach Swift at http://h:8080 (connection refused)
    after 7 attempts over 23 s (RETRIES_KNOB); check ST_AUTH`; a failing status reads
    `PUT k/o: HTTP 503 (transaction tx..), still after 7 attempts over 23 s (...)`."""
    tried = f"after {_attempts(attempts, seconds)} ({RETRIES_KNOB})"
    if isinstance(cause, Unreachable):
        message = f"{cause.message} {tried}"
        if cause.hint:
            message += f"; {cause.hint}"
        error: StorageUnavailable = Unreachable(
            cause.service, cause.origin, cause.problem, cause.hint, message=message
        )
    else:
        error = StorageUnavailable(f"{cause.message}, still {tried}", status=cause.status)
        error.trans_id = cause.trans_id  # already quoted in cause.message
    return error


def _attempts(count: int, seconds: float) -> str:
    if count == 1:
        return "1 attempt"
    if seconds < 1:
        return f"{count} attempts within a second"
    span = f"{seconds:.1f}" if seconds < 10 else f"{seconds:.0f}"
    return f"{count} attempts over {span} s"
