"""How the local backend isolates and limits a job's steps, and what it records about it.

`bubblewrap` (when `bwrap` is installed and works here), per step:
- the host is visible READ-ONLY (every top-level directory bound read-only), with a
  private /dev, /proc and /tmp;
- the jobs directory is hidden (an empty tmpfs over it: no other job's files, no
  credentials), and only this job's share/ and tmp/ are bound back, writable; the
  processor also sees its share at `/share`, as in a pod;
- the service's own files (`hidden`: its Swift credentials and token files, the
  registry) cannot be read (/dev/null bound over them, on a nodev mount): the host
  being readable, a processor could otherwise copy them into its output;
- get and publish see the job's credentials directory (read-only), the emissary and a
  local store directory (`--storeBase`): they talk to the store; the processor sees
  none of them and has NO network (`--unshare-net`);
- every step in its own PID, IPC and UTS namespaces (and, as always, its own session),
  with no capability left (`--cap-drop ALL`: as root bwrap would keep them): the step
  sees only its own processes, never pman's /proc/<pid>/{environ,root,fd};
- the whole sandbox ends with its bwrap (`--die-with-parent`, and the end of a PID
  namespace's first process ends all of it), so a process that left the step's process
  group (`setsid`) dies too when pman signals the group. bwrap is started by a small
  shell (SHIM) that outlives a SIGTERM and pman itself: a pman killed with SIGKILL leaves
  its jobs running, as without bubblewrap; a SIGTERM or SIGKILL to the step's group ends
  bwrap and so everything inside (a processor gets no grace period under bubblewrap).
`none`: plain host processes (radswift.jobs.local says what that does not protect).

Limits (processor only): memory as RLIMIT_AS through prlimit(1) (the address space, a
little stricter than a container's RSS limit); CPU needs a writable cgroup v2, which is
not used yet: it is recorded as not applied. Recorded per job in `<job>/isolation.json`
(shown as Observation.extra):

    {"isolation": "none" | "bubblewrap", "network": {step: bool},
     "limits": {"memory" | "cpu": {"value", "applied", "how"}}, "paths": {...}}
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radswift.errors import ConfigError
from radswift.jobs.backend import STEPS
from radswift.jobs.quantity import memory_bytes
from radswift.jobs.spec import JobSpec
from radswift.podcontract.share import read_marker, write_marker

MODES = ("auto", "none", "bubblewrap")
RECORD = "isolation.json"
PRIVATE_TOP = ("dev", "proc", "tmp")
SHIM = ("/bin/sh", "-c", 'trap : TERM INT HUP; "$@"; exit $?', "radswift-sandbox")
"""bwrap's parent: a signal to the step's group ends bwrap (its sandbox with it, through
--die-with-parent) but not this shell, whose parent (pman) may die without ending it."""
SANDBOX = ("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
           "--cap-drop", "ALL")  # fmt: skip


@dataclass(frozen=True)
class Isolation:
    """`kind` none or bubblewrap; `bwrap` and `prlimit` the programs (None: absent)."""

    kind: str = "none"
    bwrap: str | None = None
    prlimit: str | None = None
    hidden: tuple[Path, ...] = ()
    """Files no step may read (each step's view has /dev/null in their place)."""

    def prepare(self, spec: JobSpec, directory: Path, *, readable: Sequence[Path] = (),
                writable: Sequence[Path] = ()) -> None:  # fmt: skip
        """Write the job's record; `readable`/`writable`: what get and publish need."""
        for path in writable:  # a bind needs its source (e.g. a store not yet written to)
            path.mkdir(parents=True, exist_ok=True)
        network = {step: step != "processor" or self.kind == "none" for step in STEPS}
        record = {
            "isolation": self.kind,
            "network": network,
            "limits": self._limits(spec),
            "paths": {"readable": [str(p) for p in readable],
                      "writable": [str(p) for p in writable]},
        }  # fmt: skip
        write_marker(directory / RECORD, record, durable=False)  # as local_run's records

    def wrap(self, directory: Path, step: str, argv: Sequence[str]) -> list[str]:
        """The argv that runs `argv` as this job's `step`, isolated and limited."""
        record = read_marker(directory / RECORD) or {}
        command = list(argv)
        memory = record.get("limits", {}).get("memory", {})
        if step == "processor" and memory.get("applied") and self.prlimit:
            command = [self.prlimit, f"--as={_bytes(memory['value'])}", "--", *command]
        if self.kind != "bubblewrap" or self.bwrap is None:
            return command
        return [*SHIM, *self._bwrap(directory, step, record.get("paths", {})), "--", *command]

    def _limits(self, spec: JobSpec) -> dict[str, Any]:
        limits: dict[str, Any] = {}
        if spec.memory is not None:
            applied = self.prlimit is not None
            how = "RLIMIT_AS (address space) via prlimit" if applied else "prlimit not found"
            limits["memory"] = {"value": spec.memory, "applied": applied, "how": how}
        if spec.cpu is not None:
            limits["cpu"] = {
                "value": spec.cpu,
                "applied": False,
                "how": "a CPU rate needs a writable cgroup v2; not applied",
            }
        return limits

    def _bwrap(self, directory: Path, step: str, paths: dict[str, Any]) -> list[str]:
        assert self.bwrap is not None
        # No --new-session: the step must stay in the process group pman signals (each step
        # is started in a session of its own already, so no terminal is shared).
        args = [self.bwrap, *SANDBOX]
        if step == "processor":
            args.append("--unshare-net")
        args += host_read_only()
        args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for path in self.hidden:
            if path.is_file():  # an absent one (a registry's -wal) has nothing to read
                args += ["--ro-bind", "/dev/null", str(path)]
        args += ["--tmpfs", str(directory.parent)]  # every job's files, credentials too
        for sub in ("share", "tmp"):
            args += ["--bind", str(directory / sub), str(directory / sub)]
        if step == "processor":
            args += ["--bind", str(directory / "share"), "/share"]
        else:
            args += ["--ro-bind", str(directory / "credentials"), str(directory / "credentials")]
            for path in paths.get("readable", []):
                args += ["--ro-bind", path, path]
            for path in paths.get("writable", []):
                args += ["--bind", path, path]
        return [*args, "--chdir", str(directory / "tmp")]


def host_read_only() -> list[str]:
    """bwrap arguments making every top-level directory of the host visible read-only."""
    args: list[str] = []
    for entry in sorted(Path("/").iterdir()):
        if entry.name in PRIVATE_TOP:
            continue
        if entry.is_symlink():
            args += ["--symlink", str(entry.readlink()), str(entry)]
        elif entry.is_dir():
            args += ["--ro-bind", str(entry), str(entry)]
    return args


def choose_isolation(mode: str, hidden: Sequence[Path] = ()) -> Isolation:
    """The isolation `mode` asks for (auto: bubblewrap when it works here, else none);
    `hidden`: files bubblewrap keeps from every step."""
    if mode not in MODES:
        raise ConfigError(f"isolation must be one of {', '.join(MODES)}, not {mode!r}")
    prlimit = shutil.which("prlimit")
    if mode == "none":
        return Isolation("none", prlimit=prlimit)
    bwrap = shutil.which("bwrap")
    problem = _probe(bwrap)
    if problem is None:
        return Isolation("bubblewrap", bwrap=bwrap, prlimit=prlimit, hidden=tuple(hidden))
    if mode == "bubblewrap":
        raise ConfigError(f"--isolation bubblewrap: {problem}")
    return Isolation("none", prlimit=prlimit)


def _probe(bwrap: str | None) -> str | None:
    """Why bubblewrap cannot isolate here (None: it can)."""
    if bwrap is None:
        return "bwrap is not installed (Debian package bubblewrap)"
    try:
        done = subprocess.run([bwrap, *SANDBOX, *host_read_only(), "--dev", "/dev", "--proc",
                               "/proc", "--unshare-net", "true"], capture_output=True, text=True,
                              timeout=30, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bwrap does not run: {err}"
    return None if done.returncode == 0 else f"bwrap fails here: {done.stderr.strip()}"


def _bytes(quantity: str) -> int:
    try:
        return memory_bytes(quantity)
    except ValueError as err:
        raise ConfigError(f"cannot read the memory quantity {quantity!r}") from err
