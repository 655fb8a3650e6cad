"""A real Keystone v3 on loopback (PyPI `keystone` on SQLite, served by waitress), and a
local Swift behind it, for the slower test tier and demos.

`LocalKeystone.start(workdir)` installs Keystone into its own venv on first use
(~/.cache/radswift/keystone-venv-30), bootstraps an admin and serves until `.stop()`.
`KeystoneSwift.start(workdir)` adds the identities the tests need and a LocalSwift whose
proxy authenticates through this Keystone (`authtoken` + `keystoneauth`).

Measured on 2 shared cores: Keystone alone 13 s warm (imports dominate), 84 s cold (the
pip install); the whole stack 12-21 s warm. With Keystone's in-memory cache an API call
takes ~30 ms (1-2 s without it).
"""

from radswift.dev.keystone.config import KeystoneSettings
from radswift.dev.keystone.identity import ApplicationCredential, KeystoneAdmin, KeystoneUser
from radswift.dev.keystone.server import LocalKeystone
from radswift.dev.keystone.stack import (
    Identities,
    KeystoneSwift,
    keystone_proxy_auth,
    stop_keystone_swift,
)
from radswift.dev.keystone.venv import default_keystone_venv_dir, ensure_keystone_venv

__all__ = [
    "ApplicationCredential",
    "Identities",
    "KeystoneAdmin",
    "KeystoneSettings",
    "KeystoneSwift",
    "KeystoneUser",
    "LocalKeystone",
    "default_keystone_venv_dir",
    "ensure_keystone_venv",
    "keystone_proxy_auth",
    "stop_keystone_swift",
]
