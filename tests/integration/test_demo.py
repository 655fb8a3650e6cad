"""`radswift dev demo --backend local`: the README's first command, end to end.

It starts its own local Swift (the same cached Swift venv as the `local_swift` fixture),
so it is marked `swift`; 20 slices keep it to ~10 s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.swift,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the emissary"),
]

RADSWIFT = str(Path(sys.executable).with_name("radswift"))


def test_the_demo_runs_the_plugin_as_a_job_and_prints_its_summary(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    argv = [RADSWIFT, "dev", "demo", "--backend", "local", "--slices", "20"]
    argv += ["--workdir", str(workdir)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)

    assert done.returncode == 0, done.stderr[-3000:]
    assert "exit codes: get 0, processor 0, publish 0" in done.stderr
    assert "slices      20 of 512 x 512" in done.stdout
    summary = json.loads((workdir / "results" / "summary.json").read_text())
    assert summary["slices"] == 20 and summary["volume_voxels"] > 0
    assert f"volume      {summary['volume_voxels']} voxels above -500 HU" in done.stdout
    assert (workdir / "results" / "slices.csv").read_text().count("\n") == 21
    assert not (workdir / "jobs" / "radswift-demo").exists()  # the job was cleaned up
    assert "demo finished" in done.stdout
