"""A real single-node OpenStack Swift on loopback, for tests and demos.

`LocalSwift.start(workdir)` installs Swift into its own venv on first use, starts every
server and returns once an authenticated request works; `.environ()` gives ST_AUTH,
ST_USER and ST_KEY; `.stop()` ends every process it started.
"""

from radswift.dev.swift.config import (
    DEFAULT_USERS,
    PipelineFilter,
    ProxyAuth,
    TempauthUser,
    tempauth,
)
from radswift.dev.swift.local import LocalSwift
from radswift.dev.swift.venv import (
    DEFAULT_CACHE_DIR,
    SWIFT_VERSION,
    default_venv_dir,
    ensure_swift_venv,
    install_extras,
)

__all__ = [
    "DEFAULT_CACHE_DIR",
    "DEFAULT_USERS",
    "SWIFT_VERSION",
    "LocalSwift",
    "PipelineFilter",
    "ProxyAuth",
    "TempauthUser",
    "default_venv_dir",
    "ensure_swift_venv",
    "install_extras",
    "tempauth",
]
