"""Ports and server processes of the local Swift: pick, refuse busy, spawn, stop by PID.

Swift's servers bind with SO_REUSEPORT, so a second server on a taken port starts without
error and the kernel then splits connections between the two: a busy port must be refused
before spawning. Each server runs in its own session (its PID is its process group), so a
stop reaches any workers it forked. A PID is only signalled while its start time still
matches the one recorded, so a recycled PID is never hit. Zombies count as dead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from radswift.errors import ConfigError

STOP_TIMEOUT_S = 5.0
PORT_RELEASE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ProcessRef:
    """A process we started: its PID and its start time (clock ticks since boot)."""

    pid: int
    started: int


def ensure_port_free(host: str, port: int) -> None:
    """Raise ConfigError if something listens on host:port (TIME_WAIT leftovers are fine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1)
        except OSError as exc:
            raise ConfigError(
                f"port {port} on {host} is busy ({exc.strerror}); "
                "refusing to start a second server on it"
            ) from exc


def wait_port_released(host: str, port: int, timeout: float = PORT_RELEASE_TIMEOUT_S) -> None:
    """Until nothing listens on host:port; ConfigError if something still does after `timeout`.

    A killed multi-threaded server can already look dead (its main thread a zombie) while
    another thread still finishes: the listening socket closes only when the last thread
    has gone, so a server restarted on the same port must wait for this, not for the PID."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ensure_port_free(host, port)
            return
        except ConfigError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time) of `pid` from /proc, or None if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def process_ref(pid: int) -> ProcessRef:
    stat = _proc_stat(pid)
    return ProcessRef(pid=pid, started=stat[1] if stat else 0)


def is_alive(ref: ProcessRef) -> bool:
    """True while `ref` runs; a zombie, a dead or a recycled PID is not alive."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(ref.pid, os.WNOHANG)  # reap it if it is our child
    stat = _proc_stat(ref.pid)
    return stat is not None and stat[0] not in ("Z", "X") and stat[1] == ref.started


def spawn(argv: Sequence[str], log_file: Path, cwd: Path) -> ProcessRef:
    """Start `argv` in its own session, stdout and stderr appended to `log_file`."""
    with log_file.open("ab") as log:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise ConfigError(f"cannot run {argv[0]}: {exc}") from exc
    return process_ref(proc.pid)


def _signal(ref: ProcessRef, signum: int) -> None:
    if not is_alive(ref):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(ref.pid) == ref.pid:
            os.killpg(ref.pid, signum)
        else:
            os.kill(ref.pid, signum)


def stop_all(refs: Iterable[ProcessRef], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM every process, then SIGKILL those still alive after `timeout` seconds."""
    pending = list(refs)
    for ref in pending:
        _signal(ref, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = [ref for ref in pending if is_alive(ref)]
        if pending:
            time.sleep(0.02)
    for ref in pending:
        _signal(ref, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = [ref for ref in pending if is_alive(ref)]
        if pending:
            time.sleep(0.02)
    if pending:
        raise ConfigError(f"processes {[ref.pid for ref in pending]} survived SIGKILL")
