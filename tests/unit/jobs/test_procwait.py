"""Waiting for a step's process: woken when it ends (a child or not), bounded by a timeout."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from radswift.jobs.local_run import process_ticks
from radswift.jobs.procwait import wait_for_exit

SLEEP = [sys.executable, "-c", "import time, sys; time.sleep(float(sys.argv[1]))"]


def test_a_child_that_ends_is_seen_ended_and_reaped() -> None:
    proc = subprocess.Popen([*SLEEP, "0.2"])
    assert wait_for_exit(proc.pid, lambda: proc.poll() is not None, timeout=60)
    assert proc.returncode == 0


def test_a_child_still_running_at_the_timeout_is_reported_so() -> None:
    proc = subprocess.Popen([*SLEEP, "60"])
    try:
        assert not wait_for_exit(proc.pid, lambda: proc.poll() is not None, timeout=0.2)
        assert proc.returncode is None
    finally:
        proc.kill()
        proc.wait()
    assert wait_for_exit(proc.pid, lambda: proc.poll() is not None, timeout=0)


def test_a_process_that_is_not_our_child_is_waited_for_too() -> None:
    """As after a restart: the step runs on, its parent is gone (here a shell's background
    job, reparented when the shell exits)."""
    shell = [
        "sh",
        "-c",
        f"{SLEEP[0]} -c 'import time; time.sleep(2)' >/dev/null 2>&1 & echo $!",
    ]
    pid = int(subprocess.run(shell, capture_output=True, text=True, check=True).stdout)
    assert process_ticks(pid) is not None
    assert wait_for_exit(pid, lambda: process_ticks(pid) is None, timeout=60)


def test_without_pidfds_it_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(pid: int) -> int:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(os, "pidfd_open", refused)
    proc = subprocess.Popen([*SLEEP, "0.2"])
    assert wait_for_exit(proc.pid, lambda: proc.poll() is not None, timeout=60)
    assert proc.returncode == 0
