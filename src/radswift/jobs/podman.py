"""Run jobs on this machine with `podman kube play` (rootful podman 4.3; pman's local backend).

`run` prepares the job's host directories (owned by the UID the pod runs as, private
to the job), writes the Pods of radswift.jobs.podplay to `<root>/<job>/pod.yaml` and
starts `podman kube play` in the background: podman runs the init container to its
end before it starts the others, so playing blocks while `get` fetches the input.
`wait` waits for that, then `podman wait`s every main container and reads every
container's exit code. `cleanup` is `podman kube down` plus removing the directories.

Credentials are written for the job only: mode 0400 in a 0500 directory owned by the
pod's UID, inside the job's 0700 directory, and removed by `cleanup`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from radswift.errors import ConfigError, JobError
from radswift.jobs.backend import JobResult as JobResult  # moved there; re-exported
from radswift.jobs.podplay import HostPaths, check_playable, pod_documents, pod_name
from radswift.jobs.podtemplate import CREDENTIALS_FILE_NAME, GET, PROCESSOR, PUBLISH
from radswift.jobs.spec import DEFAULT_RUN_AS_USER, JobSpec

CONTAINERS = (GET, PROCESSOR, PUBLISH)
PODMAN_TIMEOUT = 120.0  # for podman commands that should return at once


@dataclass(frozen=True)
class PodmanJob:
    """A handle on a played job: enough to wait for, read and remove it."""

    name: str
    pods: tuple[str, ...]
    directory: Path

    @property
    def manifest(self) -> Path:
        return self.directory / "pod.yaml"


@dataclass
class PodmanBackend:
    """Jobs as podman pods under `root` (one directory per job)."""

    root: Path
    podman: str = "podman"
    environ: Mapping[str, str] | None = None  # e.g. CONTAINERS_CONF; None: inherit
    run_as_user: int = DEFAULT_RUN_AS_USER
    _players: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)

    def run(self, spec: JobSpec, credentials: bytes | None = None) -> PodmanJob:
        """Start the job; returns once `podman kube play` is running in the background."""
        check_playable(spec)
        job = PodmanJob(
            name=spec.name,
            pods=tuple(pod_name(spec, i) for i in range(spec.workers)),
            directory=self.root / spec.name,
        )
        paths = self._prepare(job, spec, credentials)
        documents = pod_documents(spec, paths, run_as_user=self.run_as_user)
        job.manifest.write_text(yaml.safe_dump_all(documents, sort_keys=False))
        with (job.directory / "play.log").open("wb") as log:
            self._players[job.name] = subprocess.Popen(
                [self.podman, "kube", "play", str(job.manifest)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
            )
        return job

    def wait(self, job: PodmanJob, timeout: float) -> JobResult:
        """Wait until every container that started has exited; JobError after `timeout` s.

        When playing failed (an init container failed, an image is missing), the containers
        podman never started stay None, and the pods it did start are still waited for."""
        deadline = time.monotonic() + timeout
        play_error = self._wait_for_play(job, deadline)
        states = self._states(job)
        ours = [f"{pod}-{c}" for pod in job.pods for c in CONTAINERS]  # not the infra ones
        running = [name for name in ours if states.get(name, {}).get("State") == "running"]
        if running:
            try:
                self._podman("wait", *running, timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise JobError(f"job {job.name} did not finish within {timeout:.0f} s") from None
            states = self._states(job)
        codes = {
            pod: {c: _exit_code(states.get(f"{pod}-{c}")) for c in CONTAINERS} for pod in job.pods
        }
        return JobResult(codes, play_error=play_error)

    def _wait_for_play(self, job: PodmanJob, deadline: float) -> str | None:
        """Wait for `podman kube play` (it returns once every init container ran); its error."""
        player = self._players.pop(job.name, None)
        if player is None:
            return None
        try:
            player.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._players[job.name] = player
            raise JobError(f"job {job.name} is still fetching its input") from None
        return None if player.returncode == 0 else self._play_log(job)

    def logs(self, job: PodmanJob, container: str, index: int = 0) -> str:
        """The container's output: its stdout, then its stderr (empty if it never ran)."""
        done = self._podman("logs", f"{job.pods[index]}-{container}", check=False)
        return done.stdout + done.stderr if done.returncode == 0 else ""

    def attach(self, name: str) -> PodmanJob:
        """The handle of a job run earlier under `root` (e.g. by a process since restarted).

        Waiting on it assumes its `podman kube play` has returned (the input is fetched):
        a play still running in the process that started it is not waited for."""
        directory = self.root / name
        try:
            documents = list(yaml.safe_load_all((directory / "pod.yaml").read_text()))
        except FileNotFoundError:
            raise JobError(f"no job {name} under {self.root}", reason="NotFound") from None
        pods = tuple(doc["metadata"]["name"] for doc in documents if doc)
        return PodmanJob(name=name, pods=pods, directory=directory)

    def container_states(self, job: PodmanJob) -> dict[str, dict[str, Any]]:
        """`podman ps --all` of the job's containers, by name (what a watcher polls)."""
        return self._states(job)

    def player(self, name: str) -> subprocess.Popen[bytes] | None:
        """The `podman kube play` this process started for job `name`, if any."""
        return self._players.get(name)

    def stop_containers(self, names: list[str], grace: int) -> None:
        """`podman stop -t grace`: SIGTERM, then SIGKILL after `grace` s (missing ones ignored)."""
        self._podman(
            "stop",
            "--ignore",
            "-t",
            str(grace),
            *names,
            check=False,
            timeout=PODMAN_TIMEOUT + grace,
        )

    def jobs(self) -> list[PodmanJob]:
        """Every job under `root` that has not been cleaned up."""
        if not self.root.is_dir():
            return []
        found = sorted(p.parent.name for p in self.root.glob("*/pod.yaml"))
        return [self.attach(name) for name in found]

    def cleanup(self, job: PodmanJob) -> None:
        """Stop and remove the job's pods and delete its directory (credentials included)."""
        player = self._players.pop(job.name, None)
        if player is not None and player.poll() is None:
            player.kill()
            player.wait()
        if job.manifest.exists():
            self._podman("kube", "down", str(job.manifest), check=False)
        for pod in job.pods:  # what `kube down` missed, e.g. after a failed play
            self._podman("pod", "rm", "--force", "--ignore", pod, check=False)
        shutil.rmtree(job.directory, ignore_errors=True)

    def _prepare(self, job: PodmanJob, spec: JobSpec, credentials: bytes | None) -> HostPaths:
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            job.directory.mkdir(mode=0o700)
        except FileExistsError:
            raise JobError(f"job {job.name} exists already under {self.root}") from None
        store = _file_store(spec.store)
        paths = HostPaths(
            share=job.directory / "share",
            credentials=job.directory / "credentials",
            scratch=job.directory / "tmp",
            store=store,
        )
        paths.scratch.mkdir()
        for directory in (paths.share, paths.credentials, *map(paths.tmp, range(spec.workers))):
            directory.mkdir(mode=0o700)
            os.chown(directory, self.run_as_user, self.run_as_user)
        if credentials is not None:
            secret = paths.credentials / CREDENTIALS_FILE_NAME
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
            with os.fdopen(fd, "wb") as out:
                out.write(credentials)
            os.chown(secret, self.run_as_user, self.run_as_user)
        paths.credentials.chmod(0o500)
        return paths

    def _states(self, job: PodmanJob) -> dict[str, dict[str, Any]]:
        """`podman ps` of every container of the job's pods, by container name."""
        states: dict[str, dict[str, Any]] = {}
        for pod in job.pods:
            found = self._podman("ps", "--all", "--filter", f"pod={pod}", "--format", "json")
            states.update({c["Names"][0]: c for c in json.loads(found.stdout or "[]")})
        return states

    def _play_log(self, job: PodmanJob) -> str:
        log = job.directory / "play.log"
        if not log.exists():
            return "podman kube play failed"
        return log.read_text(errors="replace").strip()

    def _podman(
        self, *args: str, check: bool = True, timeout: float = PODMAN_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(
                [self.podman, *args],
                capture_output=True,
                text=True,
                env=self._env(),
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            raise ConfigError(f"podman not found ({self.podman})") from None
        if check and done.returncode != 0:
            raise JobError(f"podman {args[0]} failed: {done.stderr.strip()}")
        return done

    def _env(self) -> dict[str, str] | None:
        return None if self.environ is None else dict(self.environ)


def _exit_code(state: dict[str, Any] | None) -> int | None:
    """The exit code of an exited container; None if it never ran."""
    if state is None or state.get("State") in ("created", "configured", "initialized"):
        return None
    if state.get("State") not in ("exited", "stopped"):
        return None
    return int(state.get("ExitCode", 0))


def _file_store(store: str | None) -> Path | None:
    if store is None or not store.startswith("file://"):
        return None
    return Path(store.removeprefix("file://"))
