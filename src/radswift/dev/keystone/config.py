"""keystone.conf for a throwaway Keystone: SQLite, fernet tokens, files in one work dir.

Everything a test may want to vary is in `KeystoneSettings`; the rest is fixed to what a
single loopback Keystone needs, tuned for speed on a small machine. Password hashing uses
bcrypt's minimum cost (4 rounds): a test Keystone authenticates hundreds of times and the
default cost (12) makes each password or application-credential check take a good part of
a second on 2 cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_TOKEN_EXPIRATION_S = 3600
MIN_TOKEN_EXPIRATION_S = 5
DEFAULT_REGION = "RegionOne"


@dataclass(frozen=True, kw_only=True)
class KeystoneSettings:
    """What varies between test Keystones. `token_expiration` is in seconds."""

    token_expiration: int = DEFAULT_TOKEN_EXPIRATION_S
    region: str = DEFAULT_REGION
    password_hash_rounds: int = 4
    threads: int = 8
    debug: bool = False

    def __post_init__(self) -> None:
        if self.token_expiration < MIN_TOKEN_EXPIRATION_S:
            raise ValueError(f"token_expiration must be at least {MIN_TOKEN_EXPIRATION_S} s")


@dataclass(frozen=True, kw_only=True)
class KeystonePaths:
    """Where one Keystone keeps its files, all under `workdir`."""

    workdir: Path

    @property
    def conf(self) -> Path:
        return self.workdir / "keystone.conf"

    @property
    def database(self) -> Path:
        return self.workdir / "keystone.db"

    @property
    def fernet_keys(self) -> Path:
        return self.workdir / "fernet-keys"

    @property
    def credential_keys(self) -> Path:
        return self.workdir / "credential-keys"

    @property
    def log_dir(self) -> Path:
        return self.workdir / "logs"

    @property
    def state(self) -> Path:
        return self.workdir / "state.json"


def keystone_conf(paths: KeystonePaths, settings: KeystoneSettings) -> str:
    """The text of keystone.conf."""
    sections = {
        "DEFAULT": {
            "log_file": str(paths.log_dir / "keystone.log"),
            "use_stderr": "false",
            "debug": str(settings.debug).lower(),
        },
        "database": {"connection": f"sqlite:///{paths.database}"},
        # Validations are not cached, so replacing the fernet keys voids tokens at once.
        "token": {
            "provider": "fernet",
            "expiration": str(settings.token_expiration),
            "caching": "false",
            "cache_on_issue": "false",
        },
        "fernet_tokens": {"key_repository": str(paths.fernet_keys), "max_active_keys": "3"},
        "credential": {"key_repository": str(paths.credential_keys)},
        "identity": {
            "password_hash_algorithm": "bcrypt",
            "password_hash_rounds": str(settings.password_hash_rounds),
        },
        # One process serves everything, so an in-memory cache is coherent; without it
        # each API call runs ~300 SQL queries (1-2 s on a loaded 2-core machine).
        "cache": {"enabled": "true", "backend": "dogpile.cache.memory"},
    }
    lines: list[str] = []
    for name, options in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {value}" for key, value in options.items())
        lines.append("")
    return "\n".join(lines)
