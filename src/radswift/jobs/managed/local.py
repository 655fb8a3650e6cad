"""`local`: jobs as host processes (radswift.jobs.local) behind the ManagedBackend contract.

Everything about a job lives in its directory under the backend's root (see
radswift.jobs.local and radswift.jobs.local_run), so observations are read from files,
and a pman restarted after SIGKILL finds its jobs there: `start` resumes a driver for
every job that has not ended (attaching to its processes by PID, or recording them as
lost). Added here:

    <job>/job.json        {"jid", "submitted", "spec_hash"}: for `adopt`
    <job>/cancelled       present once `cancel` was asked: the job ends with reason `cancelled`
    <job>/isolation.json  how the job's steps were isolated and limited (Observation.extra)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radswift.jobs.backend import STEPS
from radswift.jobs.lifecycle import JobState, Listener, Observation, Step
from radswift.jobs.local import LocalBackend, check_runnable
from radswift.jobs.local_run import DEADLINE_FILE, done_record, step_record
from radswift.jobs.managed import BackendConfig
from radswift.jobs.managed.isolation import Isolation, choose_isolation
from radswift.jobs.managed.jobdirs import (
    DirectoryBackend,
    has_meta,
    owned,
    publisher_reason,
    read_json,
    write_meta,
)
from radswift.jobs.managed.logs import read_log, tail_text
from radswift.jobs.spec import JobSpec, job_name
from radswift.podcontract.share import ShareLayout, write_marker

DETAIL_CHARS = 2000
LOST = "processes-died"
REMOVED = "job-directory-removed"
REMOVE_WAIT = 30.0
"""Seconds a remove waits for a cancelled job's steps to end before it deletes under them."""


def from_config(config: BackendConfig) -> ManagedLocal:
    hidden = [Path(path).expanduser().absolute() for path in config.options.get("hidden") or ()]
    isolation = choose_isolation(str(config.options.get("isolation", "auto")), hidden)
    emissary = config.options.get("emissary")
    backend = LocalBackend(
        config.root,
        environ=config.environ,
        emissary=Path(emissary) if emissary else None,
        wrap=isolation.wrap,
        steps_in_process=_in_process(config, isolation),
    )
    return ManagedLocal(backend, isolation=isolation)


def _in_process(config: BackendConfig, isolation: Isolation) -> bool:
    """get and publish in pman's process unless they are to be isolated (or told not to)."""
    wanted = config.options.get("steps_in_process")
    return isolation.kind == "none" if wanted is None else bool(wanted)


@dataclass
class ManagedLocal(DirectoryBackend):
    """The local backend as pman drives it."""

    backend: LocalBackend
    isolation: Isolation | None = None
    name: str = "local"

    def start(self, listener: Listener) -> None:
        self._listener = listener
        for directory, meta in owned(self.root):
            if done_record(directory) is None and self.backend.runner(directory.name) is None:
                self._resume(directory, str(meta["jid"]))

    def check(self, spec: JobSpec) -> None:
        """InvalidInput for a spec this backend cannot run (before pman registers it)."""
        check_runnable(spec)

    def run_job(self, spec: JobSpec, credentials: bytes | None, meta: Mapping[str, Any]) -> None:
        self.backend.run(
            spec,
            credentials,
            on_change=self._notifier(spec.jid),
            before_start=self._preparer(spec, meta["submitted"], meta["spec_hash"]),
        )

    def observe_job(self, directory: Path) -> Observation:
        return observe_directory(directory)

    def logs(
        self, jid: str, step: Step, *, worker: int = 0, tail: int | None = 200, follow: bool = False
    ) -> Iterator[str]:
        directory = self.directory_of(jid)
        if worker != 0:
            return iter(())

        def ended() -> bool:
            if not directory.exists():  # the job was removed: nothing more will come
                return True
            record = step_record(directory, step.value)
            return done_record(directory) is not None or bool(record and "finished_at" in record)

        return read_log(
            directory / "logs" / f"{step.value}.log", tail=tail, follow=follow, ended=ended
        )

    def cancel(self, jid: str) -> None:
        directory = self.directory_of(jid)
        name = directory.name
        if not directory.exists() or done_record(directory) is not None:
            return
        write_marker(directory / "cancelled", {"cancelled": True})
        runner = self.backend.runner(name)
        if runner is None:
            return
        threading.Thread(
            target=runner.cancel, args=(self.backend.grace,), name=f"cancel-{name}", daemon=True
        ).start()

    def remove(self, jid: str) -> None:
        """Cancel the job if it runs, wait (at most REMOVE_WAIT s) for its steps to end,
        then delete its directory. A submit of it in progress finishes first (the lock), so
        its driver is seen; one still busy after the wait is abandoned (LocalBackend.cleanup)."""
        name = self.directory_of(jid).name
        with self._lock:
            runner = self.backend.runner(name)
        if runner is not None and runner.thread.is_alive():
            self.cancel(jid)
            runner.thread.join(REMOVE_WAIT)
        self.backend.cleanup(self.backend.job(name))

    def _notifier(self, jid: str) -> Any:
        directory = self.root / job_name(jid)

        def changed() -> None:
            listener = self._listener
            if listener is None:
                return
            if has_meta(directory):
                listener(jid, observe_directory(directory))
            else:  # deleted under its driver (pman's own remove says nothing)
                listener(jid, Observation(state=JobState.FAILED, reason=REMOVED, detail=(
                    "the job's directory was deleted while it ran")))  # fmt: skip

        return changed

    def _preparer(
        self, spec: JobSpec, submitted: Mapping[str, Any] | None, spec_hash: str | None
    ) -> Any:
        def prepare(directory: Path) -> None:
            write_meta(directory, spec.jid, submitted, spec_hash)
            if self.isolation is not None:
                store = spec.store or ""
                writable = (
                    [Path(store.removeprefix("file://"))] if store.startswith("file://") else []
                )
                readable = [self.backend.ensure_emissary()]
                self.isolation.prepare(spec, directory, readable=readable, writable=writable)

        return prepare

    def _resume(self, directory: Path, jid: str) -> None:
        self.backend.resume(directory.name, on_change=self._notifier(jid))


def observe_directory(directory: Path) -> Observation:
    """The observation of one job from its files (see the module docs)."""
    records = {step: step_record(directory, step) or {} for step in STEPS}
    steps = {step: _step_view(record) for step, record in records.items() if record}
    extra = read_json(directory / "isolation.json") or {}
    started = records["get"].get("started_at")
    done = done_record(directory)
    if done is None:
        state = JobState.STARTED if steps else JobState.NOTSTARTED
        return Observation(state=state, started_at=started, steps=steps, extra=extra)
    codes: dict[str, int | None] = done.get("codes", {})
    lost: list[str] = done.get("lost", [])
    common: dict[str, Any] = {
        "started_at": started,
        "finished_at": done.get("finished_at"),
        "steps": steps,
        "extra": extra,
        "exit_code": codes.get("processor"),
    }
    failing = next((s for s in STEPS if codes.get(s) != 0), None)
    cancelled = (directory / "cancelled").exists()
    if failing is None and not cancelled:
        return Observation(state=JobState.SUCCEEDED, **common)
    step = Step(failing) if failing else None
    if cancelled:
        reason = "cancelled"
    elif (directory / DEADLINE_FILE).exists():
        reason = "deadline"
    elif failing in lost:
        reason = LOST
    else:
        reason = _reason(directory, failing or "", codes.get(failing or ""))
    if common["exit_code"] is None and failing:
        common["exit_code"] = codes.get(failing)
    detail = _detail(directory, failing, failing in lost)
    return Observation(
        state=JobState.FAILED, failed_step=step, reason=reason, detail=detail, **common
    )


def _reason(directory: Path, step: str, code: int | None) -> str:
    said = publisher_reason(ShareLayout(directory / "share"), step)
    if said:
        return said
    if step == "processor" and code == 137 and read_json(directory / "isolation.json"):
        return "exit code 137 (killed: out of memory or SIGKILL)"
    return f"exit code {code}"


def _detail(directory: Path, step: str | None, lost: bool) -> str | None:
    if lost:
        return f"the {step} step's processes ended while pman was not watching them"
    if step is None:
        return None
    try:
        text = (directory / "logs" / f"{step}.log").read_text(errors="replace")
    except OSError:
        return None
    return tail_text(text, 20)[-DETAIL_CHARS:] or None


def _step_view(record: Mapping[str, Any]) -> dict[str, Any]:
    if "finished_at" in record:
        state = "lost" if record.get("lost") else "terminated"
    else:
        state = "running" if "pid" in record else "waiting"
    view = {"state": state, "exit_code": record.get("exit_code")}
    view.update({k: record[k] for k in ("started_at", "finished_at") if k in record})
    return view
