"""`./run demo`, the README's first command, end to end: what it runs is `radswift dev demo`
(after ./run's install steps), here with the local backend so that it needs no image.

It starts its own local Swift (the same cached Swift venv as the `local_swift` fixture),
pfioh and pman in its own process, runs the example plugin on the sample study as a job,
and must leave nothing running: every process it started is gone when it returns.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_job_run import descendants

from plugin_checks import check_plugin_outputs

pytestmark = [
    pytest.mark.swift,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the emissary"),
]

RADSWIFT = str(Path(sys.executable).with_name("radswift"))


def test_the_demo_runs_the_plugin_through_pfioh_and_pman_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "demo"
    argv = [RADSWIFT, "dev", "demo", "--backend", "local", "--slices", "12"]
    argv += ["--workdir", str(workdir)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[int, str] = {}
    watching = threading.Event()

    def watch() -> None:  # every process the demo starts (Swift's servers, the job's steps)
        while not watching.is_set():
            for pid in descendants(proc.pid):
                seen.setdefault(pid, _cmdline(pid))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        watching.set()
        watcher.join()
        if proc.poll() is None:
            proc.kill()

    assert proc.returncode == 0, err[-3000:]
    assert "Swift at http://127.0.0.1:" in err  # a real Swift, not the fallback
    assert "step processor: running" in err and "  | pl_dicom_summary:" in err
    results = workdir / "results"
    assert f"open      {results / 'index.html'}" in out
    assert "demo finished" in out
    check_plugin_outputs(workdir / "study", results)
    assert any("swift" in cmd for cmd in seen.values()), seen  # the watcher saw Swift run
    left = {pid: _cmdline(pid) for pid in seen}
    assert {pid: cmd for pid, cmd in left.items() if cmd} == {}  # (a zombie's is empty)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
