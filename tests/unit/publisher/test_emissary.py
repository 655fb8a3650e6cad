"""The emissary, built for real with gcc and run as the processor's entrypoint.

It must pass the command's exit code through and record it (atomically) where the
publisher looks, forward SIGTERM to the command, record 128+N for a command killed by
signal N and 126/127 for a command that cannot be executed, and find its control
directory from where it is installed, so that it needs no shell and no environment.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from radswift.publisher.emissary import build_emissary, install_emissary
from radswift.publisher.share import ShareLayout


@pytest.fixture
def built(emissary_binary: Path) -> Path:
    """Compiled once per session by conftest's fixture (build_emissary, gcc -static)."""
    return emissary_binary


@pytest.fixture
def share(built: Path, tmp_path: Path) -> ShareLayout:
    layout = ShareLayout(tmp_path / "share")
    install_emissary(built, layout)
    return layout


def run(share: ShareLayout, *cmd: str, env: dict[str, str] | None = None) -> int:
    argv = [str(share.emissary), "--", *cmd]
    return subprocess.run(
        argv, env=env or {"PATH": "/usr/bin:/bin"}, timeout=30, check=False
    ).returncode


def recorded(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return data


def test_it_is_a_static_executable(built: Path, tmp_path: Path) -> None:
    assert build_emissary(tmp_path / "again") == tmp_path / "again"
    assert os.access(built, os.X_OK)
    assert b"ld-linux" not in built.read_bytes()[:4096]  # no program interpreter: static


def test_success_is_passed_through_and_recorded(share: ShareLayout) -> None:
    assert run(share, "true") == 0
    record = recorded(share.control / "exitcode")
    assert (record["exit_code"], record["reason"]) == (0, "Completed")
    assert record["started_at"] and record["finished_at"]


def test_a_failing_command_exit_code_is_passed_through(share: ShareLayout) -> None:
    assert run(share, "sh", "-c", "exit 7") == 7
    assert recorded(share.control / "exitcode")["exit_code"] == 7
    assert recorded(share.control / "exitcode")["reason"] == "Error"
    assert [
        p.name for p in share.control.iterdir() if ".tmp." in p.name
    ] == []  # renamed, no debris


def test_a_missing_command_records_127(share: ShareLayout) -> None:
    assert run(share, "/no/such/program") == 127
    assert recorded(share.control / "exitcode") | {"started_at": 0, "finished_at": 0} == {
        "exit_code": 127, "reason": "ExecFailed", "started_at": 0, "finished_at": 0,
    }  # fmt: skip


def test_a_command_that_cannot_be_executed_records_126(share: ShareLayout, tmp_path: Path) -> None:
    not_executable = tmp_path / "data.txt"
    not_executable.write_text("not a program")
    assert run(share, str(not_executable)) == 126
    assert recorded(share.control / "exitcode")["exit_code"] == 126


def test_a_command_killed_by_a_signal_records_128_plus_the_signal(share: ShareLayout) -> None:
    assert run(share, "sh", "-c", "kill -KILL $$") == 128 + 9
    assert recorded(share.control / "exitcode")["reason"] == "Signaled"


def test_sigterm_is_forwarded_to_the_command(share: ShareLayout, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    script = f"trap 'exit 42' TERM; touch {ready}; while true; do sleep 0.05; done"
    proc = subprocess.Popen([str(share.emissary), "--", "sh", "-c", script])
    try:
        deadline = time.monotonic() + 10
        while not ready.exists():
            assert time.monotonic() < deadline, "the command did not start"
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 42
    finally:
        proc.kill()
        proc.wait()
    assert recorded(share.control / "exitcode")["exit_code"] == 42


def test_the_commands_output_passes_through_and_its_tail_is_kept(share: ShareLayout) -> None:
    script = "head -c 20000 /dev/zero | tr '\\0' x; echo; echo out-end; echo err-end >&2; exit 4"
    argv = [str(share.emissary), "--", "sh", "-c", script]
    done = subprocess.run(argv, env={"PATH": "/usr/bin:/bin"}, capture_output=True, timeout=30)
    assert done.returncode == 4
    assert done.stdout.endswith(b"out-end\n") and len(done.stdout) == 20009  # all of it
    assert done.stderr == b"err-end\n"
    tail = (share.control / "exitcode.tail").read_bytes()
    assert len(tail) == 8192 and tail.endswith(b"x\nout-end\nerr-end\n")  # the last 8 KiB


def test_an_indexed_worker_writes_its_own_file(share: ShareLayout) -> None:
    assert run(share, "sh", "-c", "exit 3", env={"PATH": "/bin", "JOB_COMPLETION_INDEX": "2"}) == 3
    assert recorded(share.control / "exitcode.2")["exit_code"] == 3
    assert not (share.control / "exitcode").exists()


def test_an_explicit_exit_file_wins(built: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "code"
    target.parent.mkdir()
    argv = [str(built), "--exit-file", str(target), "--", "sh", "-c", "exit 5"]
    assert subprocess.run(argv, timeout=30, check=False).returncode == 5
    assert recorded(target)["exit_code"] == 5


def test_without_a_command_it_says_how_to_use_it(share: ShareLayout) -> None:
    result = subprocess.run(
        [str(share.emissary)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2 and "usage" in result.stderr
    assert not (share.control / "exitcode").exists()


def test_install_makes_it_executable_by_any_user(share: ShareLayout) -> None:
    assert share.emissary.stat().st_mode & 0o777 == 0o755
    assert share.control.stat().st_mode & 0o7777 == 0o2777
