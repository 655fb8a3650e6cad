"""The Keystone venv: PyPI `keystone` and a WSGI server, installed once into their own venv.

Keystone drags in oslo.*, SQLAlchemy, eventlet and friends, none of which belong in
radswift's environment; like the Swift venv it lives under `~/.cache/radswift` and is
shared by every start. A lock file makes concurrent starts wait for one install instead of
racing; a marker written last says the venv is complete, so an interrupted install is
redone rather than half-used.

waitress serves the WSGI app: one process with a thread pool (a single PID to stop, no
forking, no control socket shared between instances as gunicorn 23+ creates).
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

from radswift.errors import ConfigError

KEYSTONE_REQUIREMENTS = ("keystone>=30,<31", "waitress>=3")
"""What the venv holds; its directory name carries the major version."""
KEYSTONE_MAJOR = "30"
DEFAULT_CACHE_DIR = Path("~/.cache/radswift")
_MARKER = ".radswift-complete"
_INSTALL_TIMEOUT_S = 900


def default_keystone_venv_dir(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """`CACHE_DIR/keystone-venv-30`."""
    return cache_dir.expanduser() / f"keystone-venv-{KEYSTONE_MAJOR}"


def venv_bin(venv_dir: Path, name: str) -> Path:
    return venv_dir.expanduser() / "bin" / name


def ensure_keystone_venv(venv_dir: Path, *, python: str = sys.executable) -> Path:
    """Install Keystone into `venv_dir` unless done; return the venv's python."""
    venv_dir = venv_dir.expanduser()
    if not (venv_dir / _MARKER).exists():
        venv_dir.parent.mkdir(parents=True, exist_ok=True)
        lock_path = venv_dir.with_name(venv_dir.name + ".lock")
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent installer finishes first
            if not (venv_dir / _MARKER).exists():
                _install(venv_dir, python)
    return venv_bin(venv_dir, "python")


def _install(venv_dir: Path, python: str) -> None:
    shutil.rmtree(venv_dir, ignore_errors=True)
    _run(venv_dir, [python, "-m", "venv", str(venv_dir)])
    pip = [str(venv_bin(venv_dir, "python")), "-m", "pip", "install", "--quiet"]
    _run(venv_dir, [*pip, "--disable-pip-version-check", *KEYSTONE_REQUIREMENTS])
    (venv_dir / _MARKER).write_text("\n".join(KEYSTONE_REQUIREMENTS) + "\n")


def _run(venv_dir: Path, step: list[str]) -> None:
    try:
        done = subprocess.run(
            step, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"cannot install Keystone into {venv_dir}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ConfigError(f"cannot install Keystone into {venv_dir}: " + " | ".join(tail))
