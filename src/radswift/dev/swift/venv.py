"""The Swift venv: PyPI `swift` installed once into its own virtualenv, shared by all starts.

Swift and its dependencies (eventlet, PasteDeploy, xattr, pyeclib, lxml, cryptography)
stay out of radswift's own environment. A lock file makes concurrent starts wait for one
install instead of racing; a marker file written last says the venv is complete, so an
interrupted install is redone rather than half-used.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from radswift.errors import ConfigError

SWIFT_VERSION = "2.38.3"
DEFAULT_CACHE_DIR = Path("~/.cache/radswift")
_MARKER = ".radswift-complete"
_INSTALL_TIMEOUT_S = 600


def default_venv_dir(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """`CACHE_DIR/swift-venv-2.38.3`."""
    return cache_dir.expanduser() / f"swift-venv-{SWIFT_VERSION}"


def venv_python(venv_dir: Path) -> Path:
    return venv_dir / "bin" / "python"


def ensure_swift_venv(venv_dir: Path, *, python: str = sys.executable) -> Path:
    """Install `swift==SWIFT_VERSION` into `venv_dir` unless done; return the venv's python."""
    return ensure_tool_venv(venv_dir, [f"swift=={SWIFT_VERSION}"], python=python)


def ensure_tool_venv(
    venv_dir: Path, requirements: Sequence[str], *, python: str = sys.executable
) -> Path:
    """Install `requirements` into their own venv unless done; return the venv's python.

    Shared by the Swift and Keystone venvs: one lock, one completeness marker written last.
    """
    venv_dir = venv_dir.expanduser()
    if (venv_dir / _MARKER).exists():
        return venv_python(venv_dir)
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = venv_dir.with_name(venv_dir.name + ".lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent installer finishes first
        if not (venv_dir / _MARKER).exists():
            _install(venv_dir, python, requirements)
    return venv_python(venv_dir)


def install_extras(venv_dir: Path, requirements: Sequence[str]) -> None:
    """Add packages to a complete Swift venv (e.g. `keystonemiddleware` for a Keystone proxy).

    Done once per set of requirements (a marker named by their hash), under the same lock.
    """
    venv_dir = venv_dir.expanduser()
    if not requirements:
        return
    digest = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:16]
    marker = venv_dir / f".radswift-extras-{digest}"
    if marker.exists():
        return
    lock_path = venv_dir.with_name(venv_dir.name + ".lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            _run(venv_dir, [*_pip_install(venv_dir), *requirements])
            marker.write_text("\n".join(requirements) + "\n")


def _pip_install(venv_dir: Path) -> list[str]:
    return [
        str(venv_python(venv_dir)),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]


def _run(venv_dir: Path, step: list[str]) -> None:
    try:
        done = subprocess.run(
            step, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"cannot install into {venv_dir}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ConfigError(f"cannot install into {venv_dir}: " + " | ".join(tail))


def _install(venv_dir: Path, python: str, requirements: Sequence[str]) -> None:
    shutil.rmtree(venv_dir, ignore_errors=True)
    _run(venv_dir, [python, "-m", "venv", str(venv_dir)])
    _run(venv_dir, [*_pip_install(venv_dir), *requirements])
    (venv_dir / _MARKER).write_text("\n".join(requirements) + "\n")
