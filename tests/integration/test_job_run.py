"""`radswift job run`: a user's whole task in one command, through the real pfioh and pman.

Each test runs the installed `radswift` in a subprocess, as a user would. Without
--pman/--ioh the command starts pfioh and pman inside itself (Swift when ST_* is set,
else a local store under $RADSWIFT_CACHE_DIR); with them, it uses the running services.
The example plugin runs on the sample study and its outputs are checked against the
inputs (tests/plugin_checks.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pfioh_helpers import pfioh_process
from pman_support import Pman
from swiftclient.client import Connection
from swiftclient.exceptions import ClientException

from plugin_checks import check_plugin_outputs
from radswift.dev.demo.example_plugin import (
    PLUGIN_COMMAND,
    ensure_plugin_image,
    local_plugin_command,
)
from radswift.dev.samples import build_sample_study
from radswift.dev.swift import LocalSwift

# The podman fixtures (podman_env, radswift_image) are those of the podman job tests.
from test_podman_jobs import podman_env, radswift_image  # noqa: F401  # isort: skip

pytestmark = [
    pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the emissary"),
]

RADSWIFT = str(Path(sys.executable).with_name("radswift"))
PLUGIN = local_plugin_command()[:-2]  # pman appends /share/incoming /share/outgoing
TIMEOUT = 300


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = build_sample_study(tmp_path_factory.mktemp("study"), slices=10, rows=96, columns=96)
    return sample.directory


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No Swift credentials (a local store), and a cache of the test's own."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ST_", "OS_"))}
    return {**clean, "RADSWIFT_CACHE_DIR": str(tmp_path / "cache")}


def job_run(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [RADSWIFT, "job", "run", *args]
    return subprocess.run(
        argv, env=dict(env), capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def key_objects(swift: Connection, key: str) -> list[str]:
    try:
        return [obj["name"] for obj in swift.get_container(key, full_listing=True)[1]]
    except ClientException:  # a container that does not exist holds nothing
        return []


@pytest.mark.swift
def test_job_run_pushes_runs_the_plugin_and_pulls_verified_results_through_swift(
    study: Path, tmp_path: Path, env: dict[str, str], local_swift: LocalSwift, swift: Connection
) -> None:
    results = tmp_path / "results"
    done = job_run(
        ["--input", str(study), "--output", str(results), "--json", "--", *PLUGIN],
        {**env, **local_swift.environ()},
    )

    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout)
    assert summary["succeeded"] and summary["verified"]
    assert summary["status"] == "finishedSuccessfully"
    assert summary["via"].startswith("pfioh at http://127.0.0.1:")
    assert [s["name"] for s in summary["steps"]] == ["get", "processor", "publish"]
    assert all(s["exit_code"] == 0 for s in summary["steps"])
    files = sum(1 for p in study.rglob("*") if p.is_file())
    assert summary["pushed"]["files"] == files
    assert summary["pulled"]["files"] == sum(1 for p in results.rglob("*") if p.is_file())
    check_plugin_outputs(study, results)
    assert "step processor: running" in done.stderr
    assert "  | pl_dicom_summary: " in done.stderr  # the processor's lines, shown live
    assert summary["key_removed"] and key_objects(swift, summary["key"]) == []


@pytest.mark.swift
def test_job_run_uses_running_pman_and_pfioh_and_keeps_the_key(
    study: Path, tmp_path: Path, env: dict[str, str], local_swift: LocalSwift, swift: Connection
) -> None:
    swift_env = {**env, **local_swift.environ()}
    pman = Pman.start(tmp_path / "pman", "--swift-storage", env=swift_env)
    try:
        with pfioh_process(["--forever", "--swift-storage"], env=swift_env) as ioh:
            results = tmp_path / "results"
            args = ["--input", str(study), "--output", str(results), "--keep"]
            done = job_run([*args, "--pman", pman.url, "--ioh", ioh, "--", *PLUGIN], swift_env)
    finally:
        pman.close()

    assert done.returncode == 0, done.stderr[-3000:]
    assert "starting pfioh and pman" not in done.stderr  # the running ones were used
    check_plugin_outputs(study, results)
    key = done.stdout.split("key", 1)[1].split()[0]
    assert f"kept      the key {key}" in done.stdout
    names = key_objects(swift, key)
    assert any(n.startswith("input/") for n in names)
    assert "output/index.html" in names


@pytest.mark.swift
@pytest.mark.podman
def test_job_run_runs_the_plugin_image_on_the_podman_backend(
    study: Path, tmp_path: Path, env: dict[str, str], local_swift: LocalSwift,
    podman_env: dict[str, str], radswift_image: str,  # noqa: F811
) -> None:  # fmt: skip
    image = ensure_plugin_image(podman_env, radswift_image)
    results = tmp_path / "results"
    args = ["--input", str(study), "--output", str(results), "--backend", "podman"]
    args += ["--image", image, "--radswift-image", radswift_image, "--json"]
    run_env = {**env, **local_swift.environ(), "CONTAINERS_CONF": podman_env["CONTAINERS_CONF"]}
    done = job_run([*args, "--", PLUGIN_COMMAND[0]], run_env)

    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["succeeded"] and summary["key_removed"]
    assert [s["exit_code"] for s in summary["steps"]] == [0, 0, 0]
    check_plugin_outputs(study, results)


def test_a_failing_plugin_exits_non_zero_showing_the_failing_step_and_its_log_tail(
    study: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    script = "echo reading the study; echo 'cannot parse series 7' >&2; exit 3"
    done = job_run(
        ["--input", str(study), "--output", str(tmp_path / "out"), "--", "sh", "-c", script], env
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "job       finishedWithError" in done.stdout
    assert "failed    processor: exit code 3" in done.stdout
    tail = done.stdout.split("log tail", 1)[1]
    assert "cannot parse series 7" in tail
    assert "kept      the key" in done.stdout  # kept for a look at what went wrong


def test_bad_arguments_are_one_line_and_start_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    done = job_run(["--input", str(tmp_path / "nope"), "--output", str(tmp_path), "--", "x"], env)
    assert done.returncode != 0
    assert "not a directory" in done.stderr and "Traceback" not in done.stderr
    done = job_run(["--input", str(tmp_path), "--output", str(tmp_path), "--backend", "k8s",
                    "--", "x"], env)  # fmt: skip
    assert done.returncode != 0 and "--backend must be one of" in done.stderr


def test_ctrl_c_cancels_the_job_and_leaves_no_process_running(
    study: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    marker = f"radswift-sigint-{os.getpid()}-{time.monotonic_ns()}"
    script = f"echo started; exec sleep 300 # {marker}"
    argv = [RADSWIFT, "job", "run", "--input", str(study), "--output", str(tmp_path / "out"),
            "--", "sh", "-c", script]  # fmt: skip
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        assert proc.stderr is not None
        seen = _read_until(proc.stderr, "| started")
        started = descendants(proc.pid)
        assert any(marker in _cmdline(pid) for pid in started), (seen, started)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == 130, err
    assert "cancelling job" in err and "finishedWithError" in err
    survivors = [pid for pid in started if _alive(pid)]
    assert survivors == [], [(_cmdline(pid), pid) for pid in survivors]
    assert not any(marker in _cmdline(pid) for pid in _all_pids())


def _read_until(stream: Any, text: str, timeout: float = 120) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    for line in _lines(stream):
        seen += line
        if text in line:
            return seen
        assert time.monotonic() < deadline, seen
    raise AssertionError(f"the run ended before {text!r}:\n{seen}")


def _lines(stream: Any) -> Iterator[str]:
    yield from iter(stream.readline, "")


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> list[int]:
    """Every process under `root`, children of children included."""
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        parent = _parent(pid)
        if parent is not None:
            children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    """Running (a zombie not yet reaped by init counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
