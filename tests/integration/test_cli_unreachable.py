"""`radswift cp/ls/rm` against a Swift that is not there, as a user runs them.

One line says what was tried (scheme://host:port), why it failed, how often, and which
setting to check; the exit code is 69 (EX_UNAVAILABLE); no password or token appears
anywhere. `--retries 1` (or RADSWIFT_RETRIES=1) gives up at once; a bad count is a
usage error (exit 2). Nothing listens on the ports used here, so no Swift is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from radswift.swift.retry import DEFAULT_MAX_ATTEMPTS

RADSWIFT = str(Path(sys.executable).with_name("radswift"))
PASSWORD = "Pw-distinctive-5150-xyzzy"
TOKEN = "tk-distinctive-8086-plugh"
FAST_ENOUGH = 10.0
"""Seconds a one-attempt run may take at most: the interpreter starting on a loaded,
shared machine; refusal itself is immediate."""


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any Swift credentials, store or retry setting."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ST_", "OS_")) and k not in ("RADSWIFT_STORE", "RADSWIFT_RETRIES")
    }
    return {**env, "HOME": str(tmp_path), **extra}


def tempauth_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    auth_url = f"http://127.0.0.1:{port}/auth/v1.0"
    return clean_env(tmp_path, ST_AUTH=auth_url, ST_USER="rad:io", ST_KEY=PASSWORD, **extra)


def radswift(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RADSWIFT, *args], env=env, capture_output=True, text=True, check=False, timeout=300
    )


def command(name: str, tmp_path: Path) -> list[str]:
    study = tmp_path / "study"
    study.mkdir(exist_ok=True)
    (study / "a.dcm").write_bytes(b"DICM")
    return {
        "cp": ["cp", str(study), "swift://k1/input/"],
        "ls": ["ls", "swift://k1/input/"],
        "rm": ["rm", "-r", "swift://k1/input/"],
    }[name]


def assert_one_clean_error(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.stderr.count("radswift: error:") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    output = proc.stdout + proc.stderr
    assert PASSWORD not in output and TOKEN not in output


@pytest.mark.parametrize("name", ["cp", "ls", "rm"])
def test_with_one_attempt_an_unreachable_auth_fails_fast_with_exit_69(
    name: str, tmp_path: Path, dead_port: int
) -> None:
    port = dead_port
    started = time.monotonic()
    proc = radswift(tempauth_env(tmp_path, port), *command(name, tmp_path), "--retries", "1")
    took = time.monotonic() - started
    assert proc.returncode == 69, proc.stderr
    assert_one_clean_error(proc)
    assert (
        f"cannot reach Swift auth at http://127.0.0.1:{port} (connection refused) after 1 attempt"
        in proc.stderr
    )
    assert "check ST_AUTH" in proc.stderr and "--retries" in proc.stderr
    assert took < FAST_ENOUGH


def test_radswift_retries_sets_the_attempts_of_every_command(
    tmp_path: Path, dead_port: int
) -> None:
    port = dead_port
    proc = radswift(tempauth_env(tmp_path, port, RADSWIFT_RETRIES="2"), "ls", "swift://k1/")
    assert proc.returncode == 69
    assert_one_clean_error(proc)
    assert f"http://127.0.0.1:{port} (connection refused) after 2 attempts" in proc.stderr


def test_an_unreachable_storage_url_names_its_host_and_not_the_token(
    tmp_path: Path, dead_port: int
) -> None:
    port = dead_port
    env = clean_env(
        tmp_path, OS_STORAGE_URL=f"http://127.0.0.1:{port}/v1/AUTH_rad", OS_AUTH_TOKEN=TOKEN
    )
    proc = radswift(env, *command("cp", tmp_path), "--retries", "1")
    assert proc.returncode == 69
    assert_one_clean_error(proc)
    assert f"cannot reach Swift at http://127.0.0.1:{port} (connection refused)" in proc.stderr
    assert "check OS_STORAGE_URL" in proc.stderr


@pytest.mark.parametrize(
    ("extra_env", "extra_args", "expected"),
    [
        ({"RADSWIFT_RETRIES": "0"}, [], "RADSWIFT_RETRIES must be a whole number"),
        ({"RADSWIFT_RETRIES": "many"}, [], "RADSWIFT_RETRIES must be a whole number"),
        ({}, ["--retries", "abc"], "Invalid value for '--retries'"),
        ({}, ["--retries", "0"], "Invalid value for '--retries'"),
    ],
)
def test_a_bad_attempt_count_is_a_usage_error(
    extra_env: dict[str, str],
    extra_args: list[str],
    expected: str,
    tmp_path: Path,
    dead_port: int,
) -> None:
    env = tempauth_env(tmp_path, dead_port, **extra_env)
    proc = radswift(env, "ls", "swift://k1/", *extra_args)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr and "Traceback" not in proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["cp", "ls", "rm"])
def test_help_documents_retries(name: str) -> None:
    proc = subprocess.run(
        [RADSWIFT, name, "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode == 0
    assert "--retries" in proc.stdout and "RADSWIFT_RETRIES" in proc.stdout
    assert f"else {DEFAULT_MAX_ATTEMPTS}," in proc.stdout  # the default it states is true
