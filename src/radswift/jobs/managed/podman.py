"""`podman`: jobs as pods played by `podman kube play` (radswift.jobs.podman), managed.

States, exit codes and logs are read back from podman (`podman ps`, `podman logs`), so a
pman restarted after SIGKILL picks every job up where it is: podman keeps running pods
and exited containers until `remove` (`podman kube down`). One watcher thread per
unfinished job polls its containers and tells the listener when the picture changes.
Files added to the job's directory (radswift.jobs.podman owns the rest):

    <job>/job.json     {"jid", "submitted", "spec_hash"}: for `start` and `adopt`
    <job>/cancelled    present once `cancel` was asked
"""

from __future__ import annotations

import dataclasses
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radswift.errors import JobError
from radswift.jobs.backend import STEPS
from radswift.jobs.lifecycle import JobState, Listener, Observation, Step
from radswift.jobs.managed import BackendConfig
from radswift.jobs.managed.jobdirs import DirectoryBackend, owned, publisher_reason, write_meta
from radswift.jobs.managed.logs import tail_text
from radswift.jobs.podman import PodmanBackend, PodmanJob
from radswift.jobs.podplay import check_playable
from radswift.jobs.spec import JobSpec
from radswift.podcontract.share import ShareLayout, write_marker

POLL = 0.5
STOP_GRACE = 10


def from_config(config: BackendConfig) -> ManagedPodman:
    backend = PodmanBackend(root=config.root, environ=dict(config.environ))
    image = config.options.get("radswift_image")
    return ManagedPodman(backend, radswift_image=str(image) if image else None)


@dataclass
class ManagedPodman(DirectoryBackend):
    """The podman backend as pman drives it."""

    backend: PodmanBackend
    radswift_image: str | None = None
    name: str = "podman"
    _watched: set[str] = field(default_factory=set, init=False, repr=False)

    def start(self, listener: Listener) -> None:
        self._listener = listener
        for directory, meta in owned(self.root):
            self._watch(str(meta["jid"]), directory.name)

    def check(self, spec: JobSpec) -> None:
        check_playable(self._spec(spec))

    def run_job(self, spec: JobSpec, credentials: bytes | None, meta: Mapping[str, Any]) -> None:
        job = self.backend.run(self._spec(spec), credentials)
        write_meta(job.directory, spec.jid, meta["submitted"], meta["spec_hash"])

    def started_job(self, spec: JobSpec) -> None:
        self._watch(spec.jid, spec.name)

    def observe_job(self, directory: Path) -> Observation:
        return self._observe(self.backend.attach(directory.name))

    def logs(
        self, jid: str, step: Step, *, worker: int = 0, tail: int | None = 200, follow: bool = False
    ) -> Iterator[str]:
        job = self.backend.attach(self.directory_of(jid).name)
        if worker >= len(job.pods):
            return iter(())
        container = f"{job.pods[worker]}-{step.value}"
        if follow:
            since = [] if tail is None else ["--tail", str(tail)]
            argv = [self.backend.podman, "logs", *since, "--follow", container]
            return _stream(argv, self.backend.environ)
        return iter([tail_text(self.backend.logs(job, step.value, worker), tail)])

    def cancel(self, jid: str) -> None:
        job = self.backend.attach(self.directory_of(jid).name)
        write_marker(job.directory / "cancelled", {"cancelled": True})
        names = [f"{pod}-{c}" for pod in job.pods for c in ("get", "processor")]
        threading.Thread(
            target=self.backend.stop_containers,
            args=(names, STOP_GRACE),
            name=f"cancel-{job.name}",
            daemon=True,
        ).start()

    def remove(self, jid: str) -> None:
        try:
            job = self.backend.attach(self.directory_of(jid).name)
        except JobError:
            return
        self.backend.cleanup(job)

    def _spec(self, spec: JobSpec) -> JobSpec:
        if self.radswift_image:
            return dataclasses.replace(spec, radswift_image=self.radswift_image)
        return spec

    def _watch(self, jid: str, name: str) -> None:
        with self._lock:
            if name in self._watched:
                return
            self._watched.add(name)
        threading.Thread(target=self._poll, args=(jid, name), name=f"watch-{name}",
                         daemon=True).start()  # fmt: skip

    def _poll(self, jid: str, name: str) -> None:
        seen: Observation | None = None
        try:
            while self._listener is not None:
                try:
                    now = self._observe(self.backend.attach(name))
                except (JobError, OSError, ValueError):
                    return  # removed
                if now != seen and self._listener is not None:
                    self._listener(jid, now)
                    seen = now
                if now.state.finished:
                    return
                time.sleep(POLL)
        finally:
            with self._lock:
                self._watched.discard(name)

    def _observe(self, job: PodmanJob) -> Observation:
        states = self.backend.container_states(job)
        pod = job.pods[0]
        views = {s: _view(states.get(f"{pod}-{s}")) for s in STEPS}
        steps = {s: v for s, v in views.items() if v is not None}
        playing = self.backend.player(job.name)
        play_failed = playing is not None and playing.poll() not in (None, 0)
        codes = {s: (v or {}).get("exit_code") for s, v in views.items()}
        ended = {s: v is not None and v["state"] == "terminated" for s, v in views.items()}
        get_failed = ended["get"] and codes["get"] != 0
        if not (get_failed or play_failed or (ended["processor"] and ended["publish"])):
            state = JobState.STARTED if steps else JobState.NOTSTARTED
            if state is JobState.NOTSTARTED and playing is None and not steps:
                state = JobState.STARTED  # played by an earlier pman; podman has no trace yet
            return Observation(state=state, steps=steps, extra={"pods": list(job.pods)})
        return _finished(job, steps, codes, play_failed)


def _finished(
    job: PodmanJob, steps: dict[str, Any], codes: dict[str, Any], play_failed: bool
) -> Observation:
    share = ShareLayout(job.directory / "share")
    failing = next((s for s in STEPS if s in steps and codes[s] != 0), None)
    if failing is None and play_failed:
        failing = "get"
    cancelled = (job.directory / "cancelled").exists()
    extra = {"pods": list(job.pods)}
    if failing is None and not cancelled:
        return Observation(state=JobState.SUCCEEDED, exit_code=codes["processor"], steps=steps,
                           extra=extra)  # fmt: skip
    reason = "cancelled" if cancelled else _reason(share, failing, codes.get(failing or ""))
    detail = None
    if play_failed and "get" not in steps:
        log = job.directory / "play.log"
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else None
    return Observation(
        state=JobState.FAILED, failed_step=Step(failing) if failing else None, reason=reason,
        exit_code=codes["processor"] if codes["processor"] is not None else codes.get(
            failing or ""), detail=detail, steps=steps, extra=extra,
    )  # fmt: skip


def _reason(share: ShareLayout, step: str | None, code: int | None) -> str:
    said = publisher_reason(share, step)
    if said:
        return said
    if code is None:
        return "never ran"
    return f"exit code {code}"


def _view(state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if state is None:
        return None
    word = str(state.get("State", ""))
    if word in ("exited", "stopped"):
        return {
            "state": "terminated",
            "exit_code": int(state.get("ExitCode", 0)),
            "started_at": state.get("StartedAt"),
            "finished_at": state.get("ExitedAt"),
        }
    return {"state": "running" if word == "running" else "waiting", "exit_code": None,
            "started_at": state.get("StartedAt")}  # fmt: skip


def _stream(argv: list[str], environ: Mapping[str, str] | None) -> Iterator[str]:
    """`podman logs --follow`: lines as they come, until the container has stopped."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=None if environ is None else dict(environ))  # fmt: skip
    assert proc.stdout is not None
    try:
        for line in iter(proc.stdout.readline, b""):
            yield line.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
