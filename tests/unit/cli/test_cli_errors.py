"""The CLI answers bad input with a message and a non-zero exit code, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

RADSWIFT = str(Path(sys.executable).parent / "radswift")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["cp"], "Missing argument"),
        (["no-such-command"], "No such command"),
        (["dev", "demo", "--slices", "many"], "Invalid value for '--slices'"),
        (["cp", "swift://bad/key/", "/tmp/x", "--workers", "0"], "workers"),
    ],
)
def test_usage_errors_are_one_message_and_exit_2(argv: list[str], expected: str) -> None:
    result = subprocess.run([RADSWIFT, *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_store_error_is_one_line_with_its_exit_code(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [RADSWIFT, "ls", "swift://somekey/", "--credentials", str(tmp_path / "absent.cfg")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.startswith("radswift: error:")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["get", "put"])
def test_publish_help_names_the_real_share_variable(command: str) -> None:
    result = subprocess.run(
        [RADSWIFT, "publish", command, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "RADSWIFT_SHARE" in result.stdout and "$SHARE" not in result.stdout


@pytest.mark.parametrize(
    "argv",
    [
        [RADSWIFT, "--help"],
        [RADSWIFT, "cp", "--help"],
        [RADSWIFT, "publish", "--help"],
        [RADSWIFT, "publish", "get", "--help"],
        [RADSWIFT, "job", "manifest", "--help"],
        [RADSWIFT, "dev", "--help"],
        [RADSWIFT, "dev", "swift", "start", "--help"],
        [RADSWIFT, "serve", "ioh", "--help"],
        [str(Path(sys.executable).parent / "pfioh"), "--help"],
    ],
)
def test_every_help_page_has_one_plain_style(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and "╭" not in result.stdout  # no rich boxes anywhere


def test_dev_clean_lists_with_sizes_then_removes_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "swift-venv-2.38.3" / "bin").mkdir(parents=True)
    (cache / "swift-venv-2.38.3" / "bin" / "swift").write_bytes(b"x" * 3000)
    (cache / "emissary").mkdir()
    (cache / "emissary" / "radswift-emissary-1").write_bytes(b"y" * 10)
    env = {
        "PATH": str(tmp_path / "nopodman"),
        "HOME": str(tmp_path),
        "RADSWIFT_CACHE_DIR": str(cache),
    }
    dry = subprocess.run(
        [RADSWIFT, "dev", "clean", "--dry-run"], capture_output=True, text=True, env=env, timeout=60
    )
    assert dry.returncode == 0, dry.stderr
    assert f"would remove {cache / 'emissary'} (10 B)" in dry.stdout
    assert f"would remove {cache / 'swift-venv-2.38.3'} (2.9 KiB)" in dry.stdout
    assert (cache / "emissary").exists() and (cache / "swift-venv-2.38.3").exists()
    done = subprocess.run(
        [RADSWIFT, "dev", "clean"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert f"removed {cache / 'emissary'} (10 B)" in done.stdout
    assert list(cache.iterdir()) == []
