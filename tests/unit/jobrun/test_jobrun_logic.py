"""JobRun's decisions, over a fake pman and a fake carrier (pure logic; the real services
are exercised end to end in tests/integration/test_job_run.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any, cast

import pytest

from radswift.errors import InvalidInput
from radswift.jobrun import JobRun, Moved, RunRequest
from radswift.jobrun.run import _lines, _when
from radswift.service_clients.pman import ManClient
from radswift.transfer.progress import NullProgress, Progress


class FakeMan:
    """A fake pman that answers with the job it was given, finished."""

    url = "http://fake-pman"

    def __init__(self, job: dict[str, Any], log: str = "") -> None:
        self.final = job
        self.log = log
        self.removed: list[tuple[str, bool]] = []
        self.submitted: list[dict[str, Any]] = []

    def submit(self, document: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        self.submitted.append(document)
        return {"status": "notstarted"}, True

    def job(self, jid: str) -> dict[str, Any]:
        return {"jid": jid, **self.final}

    def follow(self, jid: str, step: str) -> Iterator[str]:
        yield from ("line one\nline ", "two\n", "last")

    def logs(self, jid: str, step: str, *, tail: int | None = None) -> str:
        return self.log

    def remove(self, jid: str, *, purge: bool = False) -> None:
        self.removed.append((jid, purge))


class FakeCarrier:
    """A fake carrier that moves nothing and reports the given counts."""

    where = "a fake carrier"

    def __init__(self, pulled: Moved) -> None:
        self.pulled = pulled

    def push(self, key: str, source: Path, layout: str, progress: Progress) -> Moved:
        return Moved(files=3, bytes=300, seconds=0.1)

    def pull(self, key: str, dest: Path, progress: Progress) -> Moved:
        return self.pulled


class Collected:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.steps: list[tuple[str, str]] = []

    def say(self, text: str) -> None:
        pass

    def step(self, name: str, state: str) -> None:
        self.steps.append((name, state))

    def log(self, line: str) -> None:
        self.lines.append(line)

    def transfer(self, description: str) -> Any:
        return nullcontext(NullProgress())


STEPS = {
    "get": {"state": "terminated", "exit_code": 0, "started_at": 10.0, "finished_at": 11.5},
    "processor": {"state": "terminated", "exit_code": 0, "started_at": 11.5, "finished_at": 14},
    "publish": {"state": "terminated", "exit_code": 0},
}


def run(man: FakeMan, pulled: Moved, tmp_path: Path, **request: Any) -> tuple[Any, Collected]:
    events = Collected()
    job_run = JobRun(man=cast(ManClient, man), carrier=FakeCarrier(pulled), events=events)
    summary = job_run.run(
        RunRequest(input=tmp_path, output=tmp_path / "out", command=["pl"], **request)
    )
    return summary, events


def test_a_verified_success_removes_the_key_and_shows_each_line_once(tmp_path: Path) -> None:
    man = FakeMan({"status": "finishedSuccessfully", "steps": STEPS,
                   "output": {"files": 2, "bytes": 20}})  # fmt: skip
    summary, events = run(man, Moved(files=2, bytes=20, seconds=0.1), tmp_path)

    assert summary.succeeded and summary.verified and summary.key_removed
    assert man.removed == [(summary.key, True)]
    assert events.lines == ["line one", "line two", "last"]
    assert [(s.name, s.seconds) for s in summary.steps] == [
        ("get", 1.5), ("processor", 2.5), ("publish", None)
    ]  # fmt: skip


def test_keep_keeps_the_key(tmp_path: Path) -> None:
    man = FakeMan({"status": "finishedSuccessfully", "output": {"files": 0, "bytes": 0}})
    summary, _ = run(man, Moved(files=0, bytes=0, seconds=0), tmp_path, keep=True)
    assert summary.succeeded and not summary.key_removed and man.removed == []


def test_a_short_pull_is_not_a_success_and_keeps_the_key(tmp_path: Path) -> None:
    man = FakeMan({"status": "finishedSuccessfully", "output": {"files": 2, "bytes": 20}})
    summary, _ = run(man, Moved(files=1, bytes=10, seconds=0.1), tmp_path)
    assert not summary.succeeded and not summary.verified and man.removed == []
    assert summary.problems == [
        "the job published 2 file(s), 20 bytes; 1 file(s), 10 bytes arrived"
    ]


def test_a_failed_job_carries_its_step_reason_and_log_tail(tmp_path: Path) -> None:
    man = FakeMan(
        {"status": "finishedWithError", "failed_step": "processor", "reason": "exit code 3",
         "output": {"files": 0, "bytes": 0}},
        log="cannot parse series 7\n",
    )  # fmt: skip
    summary, _ = run(man, Moved(files=0, bytes=0, seconds=0), tmp_path)
    assert not summary.succeeded and man.removed == []
    assert (summary.failed_step, summary.reason) == ("processor", "exit code 3")
    assert summary.log_tail == "cannot parse series 7\n"


def test_pman_appends_the_share_directories_unless_the_command_names_them(tmp_path: Path) -> None:
    plain = RunRequest(input=tmp_path, output=tmp_path, command=["pl", "--x", "1"]).document()
    named = RunRequest(
        input=tmp_path, output=tmp_path, command=["pl", "/share/incoming", "/share/outgoing"]
    ).document()
    assert (plain["entrypoint"], plain["args"], plain["raw_command"]) == (["pl"], ["--x", "1"],
                                                                          False)  # fmt: skip
    assert named["raw_command"] is True


def test_a_request_without_a_command_or_an_input_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="after --"):
        RunRequest(input=tmp_path, output=tmp_path, command=[])
    with pytest.raises(InvalidInput, match="not a directory"):
        RunRequest(input=tmp_path / "nope", output=tmp_path, command=["pl"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12.5, 12.5),
        ("2026-12-07 11:40:00.5 +0000 UTC", 1796643600.5),
        ("2026-12-07T11:40:00+00:00", 1796643600.0),
        ("", None),
        ("not a time", None),
        (None, None),
    ],
)
def test_step_times_from_either_backend(value: object, expected: float | None) -> None:
    assert _when(value) == expected


def test_lines_are_whole_across_chunks() -> None:
    assert list(_lines(iter(["a\nb", "c\n", "\nd"]))) == ["a", "bc", "", "d"]
