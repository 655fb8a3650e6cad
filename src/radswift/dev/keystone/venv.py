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

import sys
from pathlib import Path

from radswift.dev.swift.venv import ensure_tool_venv

KEYSTONE_REQUIREMENTS = ("keystone>=30,<31", "waitress>=3")
"""What the venv holds; its directory name carries the major version."""
KEYSTONE_MAJOR = "30"
DEFAULT_CACHE_DIR = Path("~/.cache/radswift")


def default_keystone_venv_dir(cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """`CACHE_DIR/keystone-venv-30`."""
    return cache_dir.expanduser() / f"keystone-venv-{KEYSTONE_MAJOR}"


def venv_bin(venv_dir: Path, name: str) -> Path:
    return venv_dir.expanduser() / "bin" / name


def ensure_keystone_venv(venv_dir: Path, *, python: str = sys.executable) -> Path:
    """Install Keystone into `venv_dir` unless done; return the venv's python."""
    return ensure_tool_venv(venv_dir, KEYSTONE_REQUIREMENTS, python=python)
