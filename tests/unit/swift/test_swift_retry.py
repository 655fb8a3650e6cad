"""The one retry loop: what is retried, how long it waits, and what it reports."""

from __future__ import annotations

import pytest

from radswift.errors import NotFound, StorageUnavailable
from radswift.swift.http import ConnectionProblem, Unreachable
from radswift.swift.retry import Retry, RetryPolicy, is_retryable_status, run_with_retries


@pytest.mark.parametrize("status", [500, 502, 503, 504, 507, 429, 498])
def test_server_errors_and_rate_limits_are_retried(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 416, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    assert not is_retryable_status(status)


def test_backoff_doubles_up_to_the_cap_with_equal_jitter() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=0.5, max_delay=4.0)
    lowest = [policy.delay(n, 0.0) for n in range(6)]
    highest = [policy.delay(n, 0.999999) for n in range(6)]
    assert lowest == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert highest == pytest.approx([0.5, 1.0, 2.0, 4.0, 4.0, 4.0])


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    assert policy.delay(0, 0.0, retry_after=3.0) == 3.0
    assert policy.delay(0, 0.0, retry_after=60.0) == 8.0


def test_default_policy_outlasts_a_proxy_restart() -> None:
    policy = RetryPolicy()
    shortest_total = sum(policy.delay(n, 0.0) for n in range(policy.max_attempts - 1))
    assert shortest_total >= 10.0


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=2.0, max_delay=1.0)


def test_transient_failures_are_retried_until_success() -> None:
    slept: list[float] = []
    calls: list[int] = []

    def attempt(n: int) -> str:
        calls.append(n)
        if n < 2:
            raise Retry(StorageUnavailable("connection refused"))
        return "done"

    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=10.0)
    result = run_with_retries(policy, attempt, what="GET c/o", sleep=slept.append, rand=lambda: 0.0)
    assert result == "done"
    assert calls == [0, 1, 2]
    assert slept == [0.5, 1.0]


def test_exhausted_retries_raise_storage_unavailable_with_the_last_cause() -> None:
    def attempt(n: int) -> None:
        raise Retry(StorageUnavailable(f"HTTP 503 #{n}", status=503, trans_id="tx42"))

    policy = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)
    with pytest.raises(StorageUnavailable) as caught:
        run_with_retries(policy, attempt, what="PUT c/o", sleep=lambda _: None)
    err = caught.value
    assert err.message == (
        "HTTP 503 #2 (transaction tx42), still after 3 attempts within a second"
        " (--retries or RADSWIFT_RETRIES)"
    )
    assert err.status == 503 and err.trans_id == "tx42"


def test_an_unreachable_store_is_said_once_with_attempts_duration_and_hint() -> None:
    refused = Unreachable(
        "Swift auth", "http://127.0.0.1:9", ConnectionProblem("connection refused"), "check ST_AUTH"
    )
    ticks = iter([100.0, 123.4])

    def attempt(n: int) -> None:
        raise Retry(refused)

    policy = RetryPolicy(max_attempts=7)
    with pytest.raises(Unreachable) as caught:
        run_with_retries(
            policy, attempt, what="PUT k1", sleep=lambda _: None, clock=lambda: next(ticks)
        )
    assert caught.value.message == (
        "cannot reach Swift auth at http://127.0.0.1:9 (connection refused) after 7 attempts"
        " over 23 s (--retries or RADSWIFT_RETRIES); check ST_AUTH"
    )
    assert isinstance(caught.value, StorageUnavailable) and caught.value.exit_code == 69
    assert caught.value.origin == "http://127.0.0.1:9"


def test_a_single_attempt_does_not_sleep_and_says_one_attempt() -> None:
    slept: list[float] = []

    def attempt(n: int) -> None:
        raise Retry(Unreachable("Swift", "http://h:80", ConnectionProblem("connection refused")))

    with pytest.raises(StorageUnavailable) as caught:
        run_with_retries(RetryPolicy(max_attempts=1), attempt, what="GET k", sleep=slept.append)
    assert slept == []
    assert caught.value.message == (
        "cannot reach Swift at http://h:80 (connection refused) after 1 attempt"
        " (--retries or RADSWIFT_RETRIES)"
    )


def test_final_errors_are_not_retried() -> None:
    calls: list[int] = []

    def attempt(n: int) -> None:
        calls.append(n)
        raise NotFound("HEAD c/o: HTTP 404")

    with pytest.raises(NotFound):
        run_with_retries(RetryPolicy(), attempt, what="HEAD c/o", sleep=lambda _: None)
    assert calls == [0]


def test_a_retry_after_hint_stretches_the_next_wait() -> None:
    slept: list[float] = []

    def attempt(n: int) -> str:
        if n == 0:
            raise Retry(StorageUnavailable("HTTP 429"), retry_after=2.5)
        return "ok"

    policy = RetryPolicy(base_delay=0.1, max_delay=5.0)
    run_with_retries(policy, attempt, what="x", sleep=slept.append, rand=lambda: 0.0)
    assert slept == [2.5]
