"""The driver of one local job's steps, written down so that another process can resume it.

`StepRunner` runs get, then processor and publish (as the pod does), each in its own
process group. Everything it learns is written into the job's directory as it happens,
so that a job service killed mid-job (pman under SIGKILL) can be restarted and pick the
job up where it is: the steps keep running (they are in their own sessions, nothing
kills them with their parent), and a new StepRunner attaches to them by PID.

    <job>/steps.json          the three steps' argv and environment (written at submit)
    <job>/steps/<step>.json   {"starting": true}, then {"pid", "ticks", "started_at"} once
                              started, then also {"exit_code", "finished_at", "lost"}
    <job>/done.json           {"codes", "lost", "finished_at"}: the driver ended
    <job>/deadline            the driver stopped the processor at the job's deadline

A step started by this process is waited for as a child. A step found running by PID
(`ticks` is its start time from /proc, so a reused PID is not mistaken for it) is
waited for as well (radswift.jobs.procwait: a pidfd, no polling); its exit code is then
read from what it leaves in the share (get: get.done or get.failed; processor: the
emissary's exit-code file; publish: put.done's state). A step
that died without saying how it ended, or whose process is gone and never recorded an
end, is `lost` (exit code None).

A job whose directory goes away while its driver runs (removed by its service, which
`abandon`s the driver, since an in-process step cannot be killed; or deleted under it)
is over: from then on the driver starts no step, writes nothing (a marker would
recreate the directory), logs to /dev/null, and removes whatever its last step left
behind when it ends. Only a driver deleted under (not abandoned) still says it ended,
so that its service records the job as finished.

These files are written atomically but not fsynced (write_marker's `durable=False`):
they outlive a killed pman, which is what they are for; a power loss kills the steps
too, and whatever it takes back of the records is read as a step not begun (run
again) or lost. pman's registry marks a job dispatched durably before it starts here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from radswift.jobs.backend import STEPS
from radswift.jobs.local_spawn import spawn_step
from radswift.jobs.procwait import wait_for_exit
from radswift.podcontract.share import ShareLayout, read_marker, utc_now, write_marker

GET, PROCESSOR, PUBLISH = STEPS
STEPS_FILE = "steps.json"
DONE_FILE = "done.json"
DEADLINE_FILE = "deadline"
DEADLINE_GRACE = 10.0

Wrapper = Callable[[Path, str, Sequence[str]], list[str]]
"""(job directory, step, argv) -> the argv actually run (e.g. inside bubblewrap)."""


@dataclass(frozen=True)
class StepDef:
    """How one step is started."""

    argv: Sequence[str]
    env: Mapping[str, str]
    in_process: bool = False
    """get/publish as functions in this process (radswift.jobs.local_inproc), not argv."""


def save_steps(directory: Path, steps: Mapping[str, StepDef]) -> None:
    """Write the steps' definitions (0600, in the job's 0700 directory)."""
    data = {
        name: {"argv": list(s.argv), "env": dict(s.env), "in_process": s.in_process}
        for name, s in steps.items()
    }
    write_marker(directory / STEPS_FILE, data, durable=False)
    (directory / STEPS_FILE).chmod(0o600)


def load_steps(directory: Path) -> dict[str, StepDef]:
    data = read_marker(directory / STEPS_FILE) or {}
    return {
        name: StepDef(argv=s["argv"], env=s["env"], in_process=bool(s.get("in_process")))
        for name, s in data.items()
    }


def step_record(directory: Path, step: str) -> dict[str, Any] | None:
    """What is known of one step (see the module doc), None if it never began."""
    try:
        return read_marker(directory / "steps" / f"{step}.json")
    except (ValueError, OSError):
        return None


def done_record(directory: Path) -> dict[str, Any] | None:
    try:
        return read_marker(directory / DONE_FILE)
    except (ValueError, OSError):
        return None


def remove_job_directory(directory: Path) -> None:
    """Delete a job's directory, its 0500 credentials directory included."""
    credentials = directory / "credentials"
    if credentials.is_dir():
        credentials.chmod(0o700)  # a 0500 directory's files cannot be unlinked
    shutil.rmtree(directory, ignore_errors=True)


def process_ticks(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else fields[19]


class StepRunner:
    """The processes of one job, driven by a thread: get, then processor and publish."""

    def __init__(
        self,
        directory: Path,
        steps: Mapping[str, StepDef],
        *,
        on_change: Callable[[], None] | None = None,
        wrap: Wrapper | None = None,
    ) -> None:
        self.directory = directory
        self.share = ShareLayout(directory / "share")
        self.steps = steps
        self.codes: dict[str, int | None] = dict.fromkeys(STEPS)
        self.lost: list[str] = []
        self._on_change = on_change or (lambda: None)
        self._wrap = wrap
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._pids: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self.abandoned = False
        """Its service removed the job: say nothing more (see `removed`)."""
        self.removed = False
        """The directory is gone: start and write nothing, remove leftovers at the end."""
        self.thread = threading.Thread(
            target=self._drive, name=f"job-{directory.name}", daemon=True
        )

    def log(self, step: str) -> Path:
        return self.directory / "logs" / f"{step}.log"

    def _drive(self) -> None:
        try:
            if self._begin(GET):
                self._finish(GET)
            if self.codes[GET] == 0 and self.steps[PUBLISH].in_process:
                if self._begin(PROCESSOR):
                    self._finish(PROCESSOR)
                if self.codes[PROCESSOR] is not None:  # it ran (or could not start): publish
                    self._begin(PUBLISH)
            elif self.codes[GET] == 0:
                running = [step for step in (PROCESSOR, PUBLISH) if self._begin(step)]
                for step in running:
                    self._finish(step)
        finally:
            done = {"codes": self.codes, "lost": self.lost, "finished_at": time.time()}
            self._mark(self.directory / DONE_FILE, done)
            self._changed()
            if self.removed:
                remove_job_directory(self.directory)

    def _begin(self, step: str) -> bool:
        """Start the step, or attach to it; False when there is nothing to wait for."""
        if self._gone():
            return False
        record = step_record(self.directory, step)
        if record is not None and "finished_at" in record:
            self.codes[step] = record.get("exit_code")
            if record.get("lost"):
                self.lost.append(step)
            return False
        if self.steps[step].in_process:  # run (again, if a restart interrupted it) and end
            self._run_in_process(step)
            return False
        if record is None:
            return self._start(step)
        pid = record.get("pid")
        if not isinstance(pid, int) or process_ticks(pid) != record.get("ticks"):
            self._end(step, self._code_from_share(step), record)
            return False
        with self._lock:
            self._pids[step] = pid
        return True

    def _start(self, step: str) -> bool:
        spec = self.steps[step]
        argv = self._wrap(self.directory, step, spec.argv) if self._wrap else list(spec.argv)
        with self._lock:
            if self._stopping:
                return False
            self._write(step, {"starting": True})
            with self._open_log(step) as log:
                try:
                    proc = spawn_step(argv, spec.env, self.directory / "tmp", log, step == PUBLISH)
                except OSError as err:  # as a container whose command cannot be executed
                    log.write(f"cannot start {argv[0]}: {err.strerror}\n".encode())
                    proc = None
            if proc is not None:
                self._procs[step], self._pids[step] = proc, proc.pid
                record = {
                    "pid": proc.pid,
                    "ticks": process_ticks(proc.pid),
                    "started_at": time.time(),
                }
                self._write(step, record)
        self._changed()
        if proc is None:
            self._not_started(step)
            return False
        return True

    def _run_in_process(self, step: str) -> None:
        from radswift.jobs.local_inproc import run_in_process

        with self._lock:
            if self._stopping and step == GET:  # publish still publishes what exists
                return
        record = {"in_process": True, "started_at": time.time()}
        self._write(step, record)
        self._changed()
        with self._open_log(step) as log:
            code = run_in_process(step, self.steps[step].env, log)
        self._end(step, code, record)

    def _not_started(self, step: str) -> None:
        """Exit 127, as a container runtime says (publish is told by _vouch_exit)."""
        self._end(step, 127, {"started_at": time.time()})

    def _vouch_exit(self, code: int) -> None:
        """Write the processor's exit-code file when the emissary did not (it never ran, or
        was killed before it could), so that publish never waits for one in vain."""
        if any(path.exists() for path in self.share.exitcode_files(None)):
            return
        shell_code = 128 - code if code < 0 else code  # killed by signal N: 128 + N
        reason = "StartError" if code == 127 else "Killed" if code < 0 else "Error"
        now = utc_now()
        marker = {"exit_code": shell_code, "reason": reason, "started_at": now, "finished_at": now}
        self._mark(self.share.exitcode_files(None)[0], marker)

    def _finish(self, step: str) -> None:
        record = step_record(self.directory, step) or {}
        deadline = self._deadline(step, record)
        left = None if deadline is None else max(0.0, deadline - time.time())
        if not wait_for_exit(self._pids[step], lambda: self._ended(step), left):
            self._past_deadline(step)
            wait_for_exit(self._pids[step], lambda: self._ended(step), None)
        proc = self._procs.get(step)
        code = proc.returncode if proc is not None else self._code_from_share(step)
        self._end(step, code, record)

    def _ended(self, step: str) -> bool:
        """Whether the step's process is over (a child of ours is reaped by the look)."""
        proc = self._procs.get(step)
        if proc is not None:
            return proc.poll() is not None
        return process_ticks(self._pids[step]) is None

    def _deadline(self, step: str, record: Mapping[str, Any]) -> float | None:
        """The processor's deadline, epoch seconds (None: none). The driver enforces it: an
        in-process publish starts after the processor, and one beside it (in bubblewrap)
        only stops waiting for it, as a pod's does where the cluster kills the pod."""
        if step != PROCESSOR:
            return None
        seconds = self.steps[PUBLISH].env.get("RADSWIFT_DEADLINE_SECONDS")
        started = record.get("started_at")
        if not seconds or not isinstance(started, int | float):
            return None
        return float(started) + float(seconds)

    def _past_deadline(self, step: str) -> None:
        """Record it and stop the step: SIGTERM, SIGKILL after DEADLINE_GRACE s."""
        self._mark(self.directory / DEADLINE_FILE, {"at": time.time()})
        self.signal(signal.SIGTERM, (step,))

        def kill() -> None:
            time.sleep(DEADLINE_GRACE)
            self.signal(signal.SIGKILL, (step,))

        threading.Thread(target=kill, name=f"deadline-{self.directory.name}", daemon=True).start()

    def _end(self, step: str, code: int | None, record: Mapping[str, Any]) -> None:
        if step == PROCESSOR and code is not None:
            self._vouch_exit(code)
        self.codes[step] = code
        if code is None:
            self.lost.append(step)
        ended = {**record, "exit_code": code, "finished_at": time.time(), "lost": code is None}
        self._write(step, ended)
        self._changed()

    def _code_from_share(self, step: str) -> int | None:
        """How a step this process did not start ended, from what it left in the share."""
        if step == GET:
            if self.share.get_done.exists():
                return 0
            return 1 if self.share.get_failed.exists() else None
        if step == PROCESSOR:
            for path in self.share.exitcode_files(None):
                marker = _read(path)
                if marker is not None and isinstance(marker.get("exit_code"), int):
                    return int(marker["exit_code"])
            return None
        marker = _read(self.share.put_done)
        if marker is None:
            return None
        return 0 if marker.get("state") == "succeeded" else 1

    def _write(self, step: str, record: Mapping[str, Any]) -> None:
        self._mark(self.directory / "steps" / f"{step}.json", record)

    def _mark(self, path: Path, record: Mapping[str, Any]) -> None:
        """write_marker, unless the job was removed (it would recreate its directory)."""
        if self._gone():
            return
        with contextlib.suppress(FileNotFoundError):  # removed meanwhile
            write_marker(path, record, durable=False)

    def _open_log(self, step: str) -> IO[bytes]:
        if not self._gone():
            with contextlib.suppress(FileNotFoundError):
                return self.log(step).open("ab")
        return open(os.devnull, "ab")  # the caller closes it

    def _gone(self) -> bool:
        """The job's directory is gone (or going): start and write nothing more."""
        if not self.removed and not self.directory.is_dir():
            self.removed = True
        return self.removed

    def _changed(self) -> None:
        if not self.abandoned:
            self._on_change()

    def abandon(self) -> None:
        """The job is being removed under a driver that still runs: SIGKILL its processes;
        the driver writes and says nothing more and removes the directory when it ends."""
        self.abandoned = self.removed = True
        self.signal(signal.SIGKILL)

    def stop(self, grace: float) -> None:
        """SIGTERM every running step's process group, SIGKILL what is left after `grace` s."""
        self.signal(signal.SIGTERM)
        self.thread.join(grace)
        if self.thread.is_alive():
            self.signal(signal.SIGKILL)
            self.thread.join()

    def signal(self, sig: signal.Signals, steps: Sequence[str] = STEPS) -> None:
        """Send `sig` to those of `steps` still running; start no step after this."""
        with self._lock:
            self._stopping = True
            for step, pid in self._pids.items():
                proc = self._procs.get(step)
                if step not in steps or (proc is not None and proc.returncode is not None):
                    continue  # reaped: its PID may be someone else's now
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, sig)

    def cancel(self, grace: float) -> None:
        """Stop the job so that publish still publishes what exists: SIGTERM get and the
        processor (publish sees the processor end and uploads); after `grace` s SIGKILL
        them and SIGTERM publish (it uploads what is there, state `interrupted`); after
        another `grace` s SIGKILL whatever is left. Blocks until the job's driver ends."""
        self.signal(signal.SIGTERM, (GET, PROCESSOR))
        self.thread.join(grace)
        if self.thread.is_alive():
            self.signal(signal.SIGKILL, (GET, PROCESSOR))
            self.signal(signal.SIGTERM, (PUBLISH,))
            self.thread.join(grace)
        if self.thread.is_alive():
            self.signal(signal.SIGKILL)
            self.thread.join()


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return read_marker(path)
    except (ValueError, OSError):
        return None
