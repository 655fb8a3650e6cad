"""Run jobs as plain processes on this machine: the pod's three steps, no containers.

`LocalBackend` is the job backend for machines without podman or Kubernetes (a laptop,
CI without root, `radswift dev demo`). It runs exactly the steps the pod runs, with the
same programs and the same shared-volume contract (radswift.podcontract.share):

    get         `python -m radswift.cli.publish get`   (the init container)
    processor   the JobSpec's command, started through the emissary that get installed
                into <share>/.radswift/bin, so its exit code is recorded as in the pod
    publish     `python -m radswift.cli.publish put`   (concurrently with the processor,
                waiting for the exit-code file: RADSWIFT_WAIT=exitfile)

Layout under `root`, one directory per job (mode 0700, removed by `cleanup`):

    <root>/<job>/share/              the job's /share (fresh per job, as the contract wants)
    <root>/<job>/credentials/swift-credentials.cfg   0400 in a 0500 directory; its path is
                                     given to get and publish in RADSWIFT_CREDENTIALS_FILE,
                                     so the secret is never in an environment or an argv
    <root>/<job>/logs/<step>.log     each step's stdout and stderr
    <root>/<job>/tmp/                TMPDIR of every step

Honest limits: there is NO isolation. The processor runs as the calling user on the
host, can read whatever that user can (the credentials file included, if it looks), and
the spec's image, cpu, memory, gpu and security settings are ignored. The path `/share`
in the command's arguments (also inside a `sh -c` script: wherever `/share` is a whole
path component) is rewritten to the job's share directory, the one "mount" there is;
other absolute paths are the host's. Only
single-worker jobs with the `exitfile` wait strategy run here. The publisher steps get
this process's environment minus every Swift/OpenStack/radswift variable (so nothing
but the credentials file can authenticate them); the processor gets the same plus the
spec's env. When `wait` times out, the job's processes are stopped by process group:
SIGTERM (publish then still uploads what is there and records `interrupted`), then
SIGKILL after `grace` seconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from radswift.errors import InvalidInput, JobError
from radswift.jobs.backend import STEPS, JobResult
from radswift.jobs.spec import JobSpec, WaitStrategy
from radswift.podcontract.emissary import build_emissary
from radswift.podcontract.env import PodEnv
from radswift.podcontract.share import EMISSARY_NAME, ShareLayout, utc_now, write_marker

GET, PROCESSOR, PUBLISH = STEPS
CREDENTIALS_FILE_NAME = "swift-credentials.cfg"
POD_SHARE = "/share"
# `/share` as a whole path component, in an argument or inside a shell script argument.
_POD_SHARE_PATH = re.compile(r"(?<![\w./-])/share(?=/|$|[\s'\";:|&)])")
DEFAULT_GRACE = 10.0
# Variables never passed to a step: credentials and any radswift setting of the caller.
_PRIVATE_PREFIXES = ("ST_", "OS_", "SWIFT_", "RADSWIFT_", "KUBERNETES_", "JOB_COMPLETION_")


@dataclass(frozen=True)
class LocalJob:
    """A handle on a started local job."""

    name: str
    directory: Path

    @property
    def pod(self) -> str:
        """The name the pod would have (worker 0), the key of JobResult.exit_codes."""
        return f"{self.name}-0"

    @property
    def share(self) -> ShareLayout:
        return ShareLayout(self.directory / "share")

    def log(self, step: str) -> Path:
        return self.directory / "logs" / f"{step}.log"


@dataclass(frozen=True)
class _Step:
    argv: Sequence[str]
    env: Mapping[str, str]


class _Run:
    """The processes of one job, driven by a thread: get, then processor and publish."""

    def __init__(self, job: LocalJob, steps: Mapping[str, _Step]) -> None:
        self.job = job
        self.steps = steps
        self.codes: dict[str, int | None] = dict.fromkeys(STEPS)
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self.thread = threading.Thread(target=self._drive, name=f"job-{job.name}", daemon=True)

    def _drive(self) -> None:
        if not self._start(GET) or self._reap(GET) != 0:
            return  # as in the pod: a failed init container starts nothing else
        started = [step for step in (PROCESSOR, PUBLISH) if self._start(step)]
        for step in started:
            self._reap(step)

    def _start(self, step: str) -> bool:
        spec = self.steps[step]
        with self._lock:
            if self._stopping:
                return False
            with self.job.log(step).open("wb") as log:
                try:
                    self._procs[step] = subprocess.Popen(
                        list(spec.argv),
                        env=dict(spec.env),
                        cwd=self.job.directory / "tmp",
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own process group, stopped as one
                    )
                    return True
                except OSError as err:  # as a container whose command cannot be executed
                    log.write(f"cannot start {spec.argv[0]}: {err.strerror}\n".encode())
        self._not_started(step)
        return False

    def _not_started(self, step: str) -> None:
        """Exit 127, as a container runtime says; for the processor, tell publish so too."""
        self.codes[step] = 127
        if step == PROCESSOR:  # the emissary never ran, so nobody else writes its marker
            now = utc_now()
            marker = {"exit_code": 127, "reason": "StartError", "started_at": now}
            write_marker(self.job.share.exitcode_files(None)[0], {**marker, "finished_at": now})

    def _reap(self, step: str) -> int:
        code = self._procs[step].wait()
        self.codes[step] = code
        return code

    def stop(self, grace: float) -> None:
        """SIGTERM every running step's process group, SIGKILL what is left after `grace` s."""
        self._signal(signal.SIGTERM)
        self.thread.join(grace)
        if self.thread.is_alive():
            self._signal(signal.SIGKILL)
            self.thread.join()

    def _signal(self, sig: signal.Signals) -> None:
        with self._lock:
            self._stopping = True
            for proc in self._procs.values():
                if proc.returncode is None:  # not reaped: its PID (= PGID) is still ours
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, sig)


@dataclass
class LocalBackend:
    """Jobs as host processes under `root` (one private directory per job).

    `environ` is the environment the steps start from (the CLI passes os.environ);
    `emissary` the static emissary binary (default `<root>/bin/radswift-emissary`),
    built there with gcc when missing; `python` the interpreter that has radswift installed."""

    root: Path
    environ: Mapping[str, str] = field(kw_only=True)
    emissary: Path | None = field(default=None, kw_only=True)
    python: str = field(default=sys.executable, kw_only=True)
    grace: float = field(default=DEFAULT_GRACE, kw_only=True)
    _runs: dict[str, _Run] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.root = self.root.expanduser().absolute()  # steps run in another directory

    def run(self, spec: JobSpec, credentials: bytes | None = None) -> LocalJob:
        """Prepare the job's directory and start its steps; returns at once."""
        _check_runnable(spec)
        emissary = self.ensure_emissary()
        job = LocalJob(name=spec.name, directory=self.root / spec.name)
        secret = self._prepare(job, credentials)
        steps = self._steps(spec, job, emissary, secret)
        run = _Run(job, steps)
        self._runs[job.name] = run
        run.thread.start()
        return job

    def wait(self, job: LocalJob, timeout: float) -> JobResult:
        """Wait for the job's steps; after `timeout` s stop them and raise JobError."""
        run = self._runs.get(job.name)
        if run is None:
            raise JobError(f"job {job.name} was not started by this backend", reason="NotFound")
        run.thread.join(timeout)
        if run.thread.is_alive():
            run.stop(self.grace)
            raise JobError(f"job {job.name} did not finish within {timeout:.0f} s; stopped it")
        return JobResult({job.pod: dict(run.codes)})

    def logs(self, job: LocalJob, container: str, index: int = 0) -> str:
        """What the step wrote to stdout and stderr (empty if it never ran)."""
        if index != 0 or container not in STEPS:
            return ""
        try:
            return job.log(container).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def cleanup(self, job: LocalJob) -> None:
        """Stop whatever still runs, then delete the job's directory (credentials included)."""
        run = self._runs.pop(job.name, None)
        if run is not None and run.thread.is_alive():
            run.stop(0.0)
        credentials = job.directory / "credentials"
        if credentials.is_dir():
            credentials.chmod(0o700)  # a 0500 directory's files cannot be unlinked
        shutil.rmtree(job.directory, ignore_errors=True)

    def ensure_emissary(self) -> Path:
        """The emissary binary's path, built first if missing (ConfigError without gcc)."""
        path = (self.emissary or self.root / "bin" / EMISSARY_NAME).expanduser().absolute()
        if not path.is_file():
            build_emissary(path)  # ConfigError (saying why) where gcc cannot build it
        return path

    def _prepare(self, job: LocalJob, credentials: bytes | None) -> Path | None:
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            job.directory.mkdir(mode=0o700)
        except FileExistsError:
            raise JobError(f"job {job.name} exists already under {self.root}") from None
        for sub in ("share", "logs", "tmp", "credentials"):
            (job.directory / sub).mkdir(mode=0o700)
        if credentials is None:
            return None
        secret = job.directory / "credentials" / CREDENTIALS_FILE_NAME
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "wb") as out:
            out.write(credentials)
        secret.parent.chmod(0o500)
        return secret

    def _steps(
        self, spec: JobSpec, job: LocalJob, emissary: Path, secret: Path | None
    ) -> dict[str, _Step]:
        base = {k: v for k, v in self.environ.items() if not k.startswith(_PRIVATE_PREFIXES)}
        base["TMPDIR"] = str(job.directory / "tmp")
        publisher = {**base, **_publisher_env(spec, job, emissary, secret)}
        publish = [self.python, "-m", "radswift.cli.publish"]
        command = [_in_share(arg, job.share.root) for arg in spec.command]
        return {
            GET: _Step([*publish, "get"], publisher),
            PROCESSOR: _Step([str(job.share.emissary), "--", *command], {**base, **spec.env}),
            PUBLISH: _Step([*publish, "put"], publisher),
        }


def _publisher_env(
    spec: JobSpec, job: LocalJob, emissary: Path, secret: Path | None
) -> dict[str, str]:
    """The pod's publisher environment (radswift.jobs.podtemplate), with host paths."""
    contract = PodEnv(
        key=spec.jid,
        share=job.share.root,
        wait=WaitStrategy.EXITFILE,
        emissary=emissary,
        job_name=spec.name,
        workers=1,
        deadline_seconds=spec.active_deadline_seconds,
        output_layout=spec.output_layout,
        credentials_file=secret,
        store=spec.store or None,
    )
    return contract.to_env()


def _in_share(arg: str, share: Path) -> str:
    """Every path `/share[/...]` in `arg` (the pod's mount point) becomes the job's share."""
    return _POD_SHARE_PATH.sub(lambda _: str(share), arg)


def _check_runnable(spec: JobSpec) -> None:
    if spec.wait is not WaitStrategy.EXITFILE:
        raise InvalidInput(
            f"the local backend runs the processor through the emissary: use the 'exitfile' "
            f"wait strategy, not {spec.wait.value!r}"
        )
    if spec.workers != 1:
        raise InvalidInput("the local backend runs single-worker jobs only")
