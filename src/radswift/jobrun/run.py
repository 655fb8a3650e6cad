"""One user task as one call: push a study, run a plugin on it through pman, pull the results.

    run = JobRun(man=ManClient(url), carrier=IohCarrier(IohClient(url)), events=events)
    summary = run.run(RunRequest(input=study, output=results, command=["pl_x"]))

The steps: push `input` into a new key's input/ (the carrier: pfioh or the store), submit
the job to pman, follow it (the current step as it changes, the processor's log lines as
they are written: pman's `follow` route), pull output/ into `output`, compare what
arrived with what the publisher says it published, and remove the key (pman's purge)
unless `keep`. What happens is told through `events` (the CLI prints it; tests collect
it); what it came to is the RunSummary. A KeyboardInterrupt (Ctrl-C) cancels the job and
waits until pman says it ended before it is raised again, so no job is left running.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from radswift.bundle import Layout
from radswift.errors import InvalidInput, RadswiftError
from radswift.jobrun.carriers import Carrier
from radswift.jobrun.summary import SUCCEEDED, RunSummary, StepTime
from radswift.service_clients.pman import ManClient
from radswift.transfer.progress import Progress

FINISHED = (SUCCEEDED, "finishedWithError")
STEPS = ("get", "processor", "publish")
SHARE = ("/share/incoming", "/share/outgoing")
POLL = 0.25
CANCEL_TIMEOUT = 60.0
TAIL_LINES = 20


class RunEvents(Protocol):
    """What a run tells as it goes (the CLI prints it; a no-op is fine)."""

    def say(self, text: str) -> None:
        """A phase begins or ends ("pushing ...", "job submitted")."""

    def step(self, name: str, state: str) -> None:
        """A job step changed state (waiting, running, terminated)."""

    def log(self, line: str) -> None:
        """One line the processor printed, as it printed it."""

    def transfer(self, description: str) -> AbstractContextManager[Progress]:
        """A progress sink for one push or pull."""
        ...


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """One run. `command`: the plugin's executable and arguments; pman appends
    /share/incoming and /share/outgoing as ChRIS does unless the command names them
    itself (then it runs as given). `job_timeout`: give up following after so long."""

    input: Path
    output: Path
    command: list[str]
    image: str = "host"
    layout: Layout = Layout.OBJECTS
    keep: bool = False
    key: str = field(default_factory=lambda: f"run-{uuid.uuid4().hex[:12]}")
    job_timeout: float = 3600.0

    def __post_init__(self) -> None:
        if not self.command:
            raise InvalidInput("say what to run after --: the plugin's command and arguments")
        if not self.input.is_dir():
            raise InvalidInput(f"--input {self.input}: not a directory")

    def document(self) -> dict[str, Any]:
        """The submit document for pman."""
        raw = any(part in SHARE for part in self.command)
        return {
            "jid": self.key,
            "image": self.image,
            "entrypoint": self.command[:1],
            "args": self.command[1:],
            "type": "ds",
            "output_layout": self.layout,
            "raw_command": raw,
        }


class JobRun:
    """The orchestration over pman's client and a carrier (see the module docs)."""

    def __init__(self, *, man: ManClient, carrier: Carrier, events: RunEvents) -> None:
        self.man = man
        self.carrier = carrier
        self.events = events

    def run(self, request: RunRequest) -> RunSummary:
        summary = RunSummary(key=request.key, via=self.carrier.where)
        self.events.say(f"pushing {request.input} into {request.key}/input/ via {summary.via}")
        with self.events.transfer("push") as progress:
            summary.pushed = self.carrier.push(request.key, request.input, request.layout, progress)
        self.man.submit(request.document())
        summary.status = "notstarted"
        self.events.say(f"job {request.key} submitted to pman at {self.man.url}")
        try:
            job = self._follow(request.key, request.job_timeout)
        except KeyboardInterrupt:
            self._cancel(request.key)
            raise
        _record(summary, job)
        if job["status"] != SUCCEEDED:
            summary.log_tail = self._log_tail(job)
        self._pull(request, summary, job)
        if summary.succeeded and not request.keep:
            self.man.remove(request.key, purge=True)
            summary.key_removed = True
        return summary

    def _follow(self, jid: str, timeout: float) -> dict[str, Any]:
        """The job once finished, telling its steps and the processor's lines meanwhile."""
        deadline = time.monotonic() + timeout
        seen: dict[str, str] = {}
        followed = False
        while True:
            job = self.man.job(jid)
            steps: Mapping[str, Any] = job.get("steps") or {}
            for name in STEPS:
                state = (steps.get(name) or {}).get("state")
                if state and seen.get(name) != state:
                    seen[name] = state
                    self.events.step(name, state)
            if not followed and seen.get("processor") in ("running", "terminated", "lost"):
                followed = True
                for line in _lines(self.man.follow(jid, "processor")):
                    self.events.log(line)
                continue
            if job["status"] in FINISHED:
                return job
            if time.monotonic() > deadline:
                raise RadswiftError(f"job {jid} did not finish within {timeout:.0f} s")
            time.sleep(POLL)

    def _cancel(self, jid: str) -> None:
        """Cancel, and wait until pman says the job ended (bounded)."""
        self.events.say(f"interrupted: cancelling job {jid}")
        with contextlib.suppress(RadswiftError):
            self.man.cancel(jid)
            deadline = time.monotonic() + CANCEL_TIMEOUT
            while self.man.job(jid)["status"] not in FINISHED and time.monotonic() < deadline:
                time.sleep(POLL)
            self.events.say(f"job {jid}: {self.man.job(jid)['status']}")

    def _log_tail(self, job: Mapping[str, Any]) -> str | None:
        if job.get("detail"):
            return str(job["detail"])
        step = job.get("failed_step") or "processor"
        with contextlib.suppress(RadswiftError):
            return self.man.logs(job["jid"], step, tail=TAIL_LINES) or None
        return None

    def _pull(self, request: RunRequest, summary: RunSummary, job: Mapping[str, Any]) -> None:
        self.events.say(f"pulling {request.key}/output/ into {request.output}")
        with self.events.transfer("pull") as progress:
            summary.pulled = self.carrier.pull(request.key, request.output, progress)
        summary.results = str(request.output.absolute())
        published = job.get("output") or {}
        expected = (published.get("files"), published.get("bytes"))
        got = (summary.pulled.files, summary.pulled.bytes)
        if None in expected:
            summary.problems.append("the job's status object says nothing of what it published")
        elif expected != got:
            summary.problems.append(
                f"the job published {expected[0]} file(s), {expected[1]} bytes; "
                f"{got[0]} file(s), {got[1]} bytes arrived"
            )
        summary.verified = not summary.problems


def _record(summary: RunSummary, job: Mapping[str, Any]) -> None:
    summary.status = job["status"]
    summary.failed_step = job.get("failed_step")
    summary.reason = job.get("reason")
    steps: Mapping[str, Any] = job.get("steps") or {}
    summary.steps = [
        StepTime(
            name=name,
            state=str(view.get("state")),
            exit_code=view.get("exit_code"),
            seconds=_seconds(view),
        )
        for name in STEPS
        if (view := steps.get(name))
    ]


def _seconds(view: Mapping[str, Any]) -> float | None:
    start, end = _when(view.get("started_at")), _when(view.get("finished_at"))
    return None if start is None or end is None else max(end - start, 0.0)


def _when(value: Any) -> float | None:
    """A step's timestamp as epoch seconds: the local backend's floats, podman's strings."""
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    text = value.replace(" UTC", "").strip()
    date, _, rest = text.partition(" ")
    with contextlib.suppress(ValueError):
        if rest:  # podman: "2026-12-07 11:40:00.123456789 +0000"
            clock, _, zone = rest.partition(" ")
            whole, _, frac = clock.partition(".")
            text = f"{date}T{whole}.{(frac + '000000')[:6]}{zone or '+0000'}"
        return datetime.fromisoformat(text).timestamp()
    return None


def _lines(chunks: Iterator[str]) -> Iterator[str]:
    """Whole lines out of text chunks (the last one even without its newline)."""
    pending = ""
    for chunk in chunks:
        pending += chunk
        *whole, pending = pending.split("\n")
        yield from whole
    if pending:
        yield pending
