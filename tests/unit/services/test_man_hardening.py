"""pman under attack (an outsider's review, 2026-12-07): what it found, now refused.

Each test failed on the code the review ran against: a trailing newline passed every
`^...$` check, a tail read the whole log, a follow of a removed job never ended, and
followers could take every worker thread the other routes need."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from radswift.errors import InvalidInput, Overloaded
from radswift.jobmanager.request import MAX_ENV, MAX_ENV_NAME, MAX_TEXT, JobRequest
from radswift.jobs.managed.logs import MAX_TAIL_BYTES, read_log
from radswift.jobs.spec import JobSpec
from radswift.services.man.context import MAX_FOLLOWERS, ManContext

BASE: dict[str, Any] = {"jid": "chris-jid-1", "image": "fnndsc/pl-x:1", "entrypoint": ["pl-x"]}


@pytest.mark.parametrize("field", ["jid", "image", "auid", "cpu_limit", "memory_limit"])
def test_a_trailing_newline_is_refused_in_every_checked_field(field: str) -> None:
    values = {
        "jid": "j1\n",
        "image": "x\n",
        "auid": "u\n",
        "cpu_limit": "1\n",
        "memory_limit": "100Mi\n",
    }
    with pytest.raises((ValidationError, InvalidInput)):
        JobRequest.model_validate({**BASE, field: values[field]})


def test_job_specs_refuse_a_trailing_newline_in_quantities_and_env_names() -> None:
    with pytest.raises(InvalidInput):
        JobSpec(jid="j1", image="x", memory="100Mi\n")
    with pytest.raises(InvalidInput):
        JobSpec(jid="j1", image="x", env={"NL\n": "1"})


def test_a_tail_reads_the_end_of_a_large_log_not_all_of_it(tmp_path: Path) -> None:
    log = tmp_path / "processor.log"
    line = b"x" * 1023 + b"\n"
    log.write_bytes(line * (3 * MAX_TAIL_BYTES // len(line)) + b"the last line\n")
    text = "".join(read_log(log, tail=2, follow=False, ended=lambda: True))
    assert text.endswith("the last line\n") and len(text) <= 2 * len(line)


def test_a_follow_ends_once_the_step_has_ended_and_nothing_more_came(tmp_path: Path) -> None:
    log = tmp_path / "gone.log"  # the job's directory was removed: no file, ended() is True
    assert list(read_log(log, tail=None, follow=True, ended=lambda: True)) == []


def test_followers_beyond_their_cap_are_refused_at_once() -> None:
    ctx = ManContext(manager=None, settings=None, metrics=None)  # type: ignore[arg-type]

    async def saturate() -> None:
        for _ in range(MAX_FOLLOWERS):
            await ctx.followers.acquire_on_behalf_of(object())
        with pytest.raises(Overloaded):
            ctx.follow(iter(()))

    asyncio.run(saturate())


def test_every_open_follow_counts_against_the_cap_busy_or_not() -> None:
    ctx = ManContext(manager=None, settings=None, metrics=None)  # type: ignore[arg-type]

    async def open_streams() -> None:
        streams = [ctx.follow(iter(())) for _ in range(MAX_FOLLOWERS)]  # none reading yet
        with pytest.raises(Overloaded):
            ctx.follow(iter(()))
        assert [chunk async for chunk in streams[0]] == []  # one ends: its place is free
        streams.append(ctx.follow(iter(())))
        with pytest.raises(Overloaded):
            ctx.follow(iter(()))
        del streams[1]  # dropped unstarted (a client gone before the body began)
        gc.collect()
        ctx.follow(iter(()))

    asyncio.run(open_streams())


def test_env_names_and_values_are_capped() -> None:
    with pytest.raises(ValidationError):
        JobRequest.model_validate({**BASE, "env": {"A" * (MAX_ENV_NAME + 1): "1"}})
    with pytest.raises(ValidationError):
        JobRequest.model_validate({**BASE, "env": {"A": "x" * (MAX_TEXT + 1)}})
    with pytest.raises(ValidationError):
        JobRequest.model_validate({**BASE, "env": {f"V{i}": "1" for i in range(MAX_ENV + 1)}})
    accepted = {"A" * MAX_ENV_NAME: "x" * MAX_TEXT}
    assert JobRequest.model_validate({**BASE, "env": accepted}).env == accepted
