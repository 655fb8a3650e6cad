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
the spec's image, cpu, memory and security settings are ignored (a GPU job is refused:
there are none to give). The path `/share` in the command's arguments (also inside a
`sh -c` script: wherever `/share` is a whole path component) is rewritten to the job's
share directory, the one "mount" there is; other absolute paths are the host's. Only
single-worker jobs with the `exitfile` wait strategy run here. The publisher steps get
this process's environment minus every Swift/OpenStack/radswift variable (so nothing
but the credentials file can authenticate them). The processor gets an allow-list
(`processor_env`): PATH, LANG, LC_*, TZ from this process, HOME, TMPDIR and PWD the
job's own tmp/, and the spec's env; nothing else of the caller's (tokens, credential
paths, proxy passwords) reaches it, as nothing reaches a container's. When `wait` times
out, the job's processes are stopped by process group: SIGTERM (publish then still
uploads what is there and records `interrupted`), then SIGKILL after `grace` seconds.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from radswift.errors import InvalidInput, JobError, Unsupported
from radswift.jobs.backend import STEPS, JobResult
from radswift.jobs.local_run import (
    StepDef,
    StepRunner,
    Wrapper,
    load_steps,
    remove_job_directory,
    save_steps,
)
from radswift.jobs.spec import JobSpec, WaitStrategy
from radswift.podcontract.emissary import build_emissary
from radswift.podcontract.env import PodEnv
from radswift.podcontract.share import EMISSARY_NAME, ShareLayout

GET, PROCESSOR, PUBLISH = STEPS
CREDENTIALS_FILE_NAME = "swift-credentials.cfg"
POD_SHARE = "/share"
# `/share` as a whole path component, in an argument or inside a shell script argument.
_POD_SHARE_PATH = re.compile(r"(?<![\w./-])/share(?=/|$|[\s'\";:|&)])")
DEFAULT_GRACE = 10.0
# Variables never passed to a step: credentials and any radswift setting of the caller.
_PRIVATE_PREFIXES = ("ST_", "OS_", "SWIFT_", "RADSWIFT_", "KUBERNETES_", "JOB_COMPLETION_")
# What the processor gets of the caller's environment (besides HOME, TMPDIR, spec.env).
PROCESSOR_PASSED = ("PATH", "LANG", "TZ")
PROCESSOR_PASSED_PREFIXES = ("LC_",)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


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
    steps_in_process: bool = field(default=False, kw_only=True)
    """Run get and publish as functions in this process (radswift.jobs.local_inproc)."""
    wrap: Wrapper | None = field(default=None, kw_only=True)
    """Turns each step's argv into the one run (radswift.jobs.managed.isolation)."""
    _runs: dict[str, StepRunner] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.root = self.root.expanduser().absolute()  # steps run in another directory

    def run(
        self,
        spec: JobSpec,
        credentials: bytes | None = None,
        *,
        on_change: Callable[[], None] | None = None,
        before_start: Callable[[Path], None] | None = None,
    ) -> LocalJob:
        """Prepare the job's directory and start its steps; returns at once.

        `on_change` is called (from the job's thread) whenever a step starts or ends;
        `before_start` with the job's directory once it is prepared."""
        check_runnable(spec)
        emissary = self.ensure_emissary()
        job = self.job(spec.name)
        secret = self._prepare(job, credentials)
        steps = self._steps(spec, job, emissary, secret)
        save_steps(job.directory, steps)
        if before_start is not None:
            before_start(job.directory)
        return self._drive(job, steps, on_change)

    def resume(self, name: str, *, on_change: Callable[[], None] | None = None) -> LocalJob:
        """Drive a job another process started under `root` on from where it is."""
        job = self.job(name)
        return self._drive(job, load_steps(job.directory), on_change)

    def job(self, name: str) -> LocalJob:
        """The handle of the job named `name` under `root` (it need not exist)."""
        return LocalJob(name=name, directory=self.root / name)

    def runner(self, name: str) -> StepRunner | None:
        """The driver of a job this backend runs now."""
        return self._runs.get(name)

    def _drive(
        self, job: LocalJob, steps: Mapping[str, StepDef], on_change: Callable[[], None] | None
    ) -> LocalJob:
        run = StepRunner(job.directory, steps, on_change=on_change, wrap=self.wrap)
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
        """Kill whatever still runs, then delete the job's directory (credentials included).
        A driver still busy (an in-process step) is abandoned: it removes what it leaves
        behind when it ends (radswift.jobs.local_run)."""
        run = self._runs.pop(job.name, None)
        if run is not None and run.thread.is_alive():
            run.abandon()
        remove_job_directory(job.directory)

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
        for sub in ("share", "logs", "tmp", "credentials", "steps"):
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
    ) -> dict[str, StepDef]:
        base = {k: v for k, v in self.environ.items() if not k.startswith(_PRIVATE_PREFIXES)}
        base["TMPDIR"] = str(job.directory / "tmp")
        publisher = {**base, **_publisher_env(spec, job, emissary, secret)}
        publish = [self.python, "-m", "radswift.cli.publish"]
        command = [_in_share(arg, job.share.root) for arg in spec.command]
        processor = processor_env(self.environ, spec, job.directory / "tmp")
        return {
            GET: StepDef([*publish, "get"], publisher, in_process=self.steps_in_process),
            PROCESSOR: StepDef([str(job.share.emissary), "--", *command], processor),
            PUBLISH: StepDef([*publish, "put"], publisher, in_process=self.steps_in_process),
        }


def _publisher_env(
    spec: JobSpec, job: LocalJob, emissary: Path, secret: Path | None
) -> dict[str, str]:
    """The pod's publisher environment (radswift.jobs.podtemplate), with host paths."""
    contract = PodEnv(
        key=spec.storage_key,
        share=job.share.root,
        wait=WaitStrategy.EXITFILE,
        emissary=emissary,
        job_name=spec.name,
        workers=1,
        deadline_seconds=spec.active_deadline_seconds,
        output_layout=spec.output_layout,
        credentials_file=secret,
        store=spec.store or None,
        allow_empty_input=spec.allow_empty_input,
    )
    return contract.to_env()


def processor_env(environ: Mapping[str, str], spec: JobSpec, tmp: Path) -> dict[str, str]:
    """The processor's whole environment: an allow-list of the caller's (PATH, locale,
    TZ), HOME, TMPDIR and PWD the job's private `tmp` (where it starts), then the job's
    own declared env."""
    env = {
        name: value
        for name, value in environ.items()
        if name in PROCESSOR_PASSED or name.startswith(PROCESSOR_PASSED_PREFIXES)
    }
    env.setdefault("PATH", DEFAULT_PATH)
    env.update(HOME=str(tmp), TMPDIR=str(tmp), PWD=str(tmp))  # PWD: bwrap --chdir sets it
    return {**env, **spec.env}


def _in_share(arg: str, share: Path) -> str:
    """Every path `/share[/...]` in `arg` (the pod's mount point) becomes the job's share."""
    return _POD_SHARE_PATH.sub(lambda _: str(share), arg)


def check_runnable(spec: JobSpec) -> None:
    """InvalidInput for what this backend cannot run faithfully."""
    if spec.wait is not WaitStrategy.EXITFILE:
        raise InvalidInput(
            f"the local backend runs the processor through the emissary: use the 'exitfile' "
            f"wait strategy, not {spec.wait.value!r}"
        )
    if spec.workers != 1:
        raise InvalidInput("the local backend runs single-worker jobs only")
    if spec.gpu:
        raise Unsupported(
            "the local backend has no GPUs to give: gpu_limit must be 0 (run GPU jobs on the"
            " kubernetes or openshift backend)",
            reason="unsupported_by_backend",
        )
