"""The registry: the one gate for state changes, duplicates, the FIFO queue, and no lost
update when many threads write at once."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

from radswift.errors import Conflict, NotFound
from radswift.jobmanager.registry import JobQuery, Registry
from radswift.jobs.lifecycle import TRANSITIONS, JobState, Observation, Step


def registry(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "registry.db")


def add(reg: Registry, jid: str, auid: str = "") -> None:
    reg.insert(jid, f"hash-{jid}", {"jid": jid}, auid)


def move(reg: Registry, jid: str, *states: JobState) -> None:
    for state in states:
        reg.apply(jid, Observation(state=state))


@pytest.mark.parametrize(("start", "target"), list(itertools.product(JobState, JobState)))
def test_a_state_changes_only_along_the_allowed_edges(
    tmp_path: Path, start: JobState, target: JobState
) -> None:
    reg = registry(tmp_path)
    add(reg, "j")
    if start is not JobState.NOTSTARTED:
        move(reg, "j", start)
    assert reg.get("j").state is start

    changed = reg.apply("j", Observation(state=target))

    allowed = target in TRANSITIONS[start] or (target is start and not start.finished)
    assert (changed is not None) == allowed
    assert reg.get("j").state is (target if allowed else start)


def test_a_finished_job_never_changes_again(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    add(reg, "j")
    failed = Observation(state=JobState.FAILED, failed_step=Step.PROCESSOR, reason="exit code 3")
    reg.apply("j", failed)
    move(reg, "j", JobState.STARTED, JobState.SUCCEEDED, JobState.UNDEFINED)
    job = reg.get("j")
    assert (job.state, job.failed_step, job.reason) == (JobState.FAILED, "processor", "exit code 3")


def test_the_same_jid_with_the_same_hash_is_the_same_job_and_another_is_a_conflict(
    tmp_path: Path,
) -> None:
    reg = registry(tmp_path)
    first, created = reg.insert("j", "h1", {"jid": "j"})
    again, created_again = reg.insert("j", "h1", {"jid": "j"})
    assert (created, created_again) == (True, False) and again == first
    with pytest.raises(Conflict):
        reg.insert("j", "h2", {"jid": "j", "image": "other"})


def test_the_queue_is_first_in_first_out_and_bounded_by_max_running(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    for jid in ("a", "b", "c"):
        add(reg, jid)
    first = reg.claim_next(2)
    second = reg.claim_next(2)
    assert (first and first.jid, second and second.jid) == ("a", "b")
    assert reg.claim_next(2) is None  # two are active
    move(reg, "a", JobState.STARTED, JobState.SUCCEEDED)
    third = reg.claim_next(2)
    assert third is not None and third.jid == "c"
    assert reg.queue_length() == 0 and reg.active() == 2


def test_cancelling_a_queued_job_ends_it_at_once_and_a_dispatched_one_asks_the_backend(
    tmp_path: Path,
) -> None:
    reg = registry(tmp_path)
    add(reg, "running")
    add(reg, "queued")
    reg.claim_next(None)
    queued, tell = reg.request_cancel("queued")
    assert (queued.state, queued.reason, tell) == (JobState.FAILED, "cancelled", False)
    running, tell = reg.request_cancel("running")
    assert (running.state, tell) == (JobState.NOTSTARTED, True)
    reg.apply("running", Observation(state=JobState.FAILED, reason="exit code 143"))
    assert reg.get("running").reason == "cancelled"
    with pytest.raises(NotFound):
        reg.request_cancel("nothing")


def test_listing_filters_by_state_user_and_time_and_pages_newest_first(tmp_path: Path) -> None:
    clock = itertools.count(1000.0)
    reg = Registry(tmp_path / "r.db", clock=lambda: next(clock))
    for i in range(5):
        add(reg, f"j{i}", auid="ann" if i % 2 == 0 else "bob")
    move(reg, "j4", JobState.STARTED)

    jobs, total = reg.page(JobQuery(auid="ann", limit=2))
    assert total == 3 and [j.jid for j in jobs] == ["j4", "j2"]
    jobs, _ = reg.page(JobQuery(auid="ann", limit=2, offset=2))
    assert [j.jid for j in jobs] == ["j0"]
    assert [j.jid for j in reg.page(JobQuery(state=JobState.STARTED))[0]] == ["j4"]
    assert reg.page(JobQuery(since=1003.0))[1] == 2


def test_what_was_written_is_there_after_reopening(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    add(reg, "j")
    reg.apply("j", Observation(state=JobState.STARTED, steps={"get": {"state": "running"}}))
    reg.close()
    again = registry(tmp_path)
    job = again.get("j")
    assert job.state is JobState.STARTED and job.steps == {"get": {"state": "running"}}


def test_a_submit_is_fsynced_before_it_returns_and_the_bookkeeping_of_running_jobs_is_not(
    tmp_path: Path,
) -> None:
    """What a client was answered about survives a power loss (synchronous=FULL: the WAL
    is fsynced at commit); claims and observations, which pman reads again from the
    backend at its start, commit with WAL's normal sync."""
    reg = registry(tmp_path)
    modes: list[str] = []

    def seen(statement: str) -> None:
        if statement.startswith("PRAGMA synchronous="):
            modes.append(statement.removeprefix("PRAGMA synchronous="))

    reg._db.set_trace_callback(seen)  # the writer's connection
    add(reg, "j")
    assert modes == ["FULL"]
    reg.claim_next(None)
    move(reg, "j", JobState.STARTED, JobState.SUCCEEDED)
    assert modes[1:] == ["NORMAL"] * 3
    add(reg, "k")
    reg.request_cancel("k")
    reg.delete("j")
    assert modes[4:] == ["FULL"] * 4  # k registered, its cancel asked and ended, j deleted


def test_many_threads_at_once_lose_no_update(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    jids = [f"j{i}" for i in range(200)]
    for jid in jids:
        add(reg, jid)

    def run(jid: str) -> None:
        final = JobState.SUCCEEDED if int(jid[1:]) % 2 else JobState.FAILED
        for state in (JobState.STARTED, JobState.STARTED, final, JobState.STARTED):
            reg.apply(jid, Observation(state=state))

    threads = [threading.Thread(target=run, args=(jid,)) for jid in jids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for jid in jids:
        wanted = JobState.SUCCEEDED if int(jid[1:]) % 2 else JobState.FAILED
        assert reg.get(jid).state is wanted
    assert reg.counts()[JobState.SUCCEEDED] == 100
