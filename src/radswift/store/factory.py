"""Building the store a command asked for: Swift by default, a local directory on request.

    open_store(None, ...)                  Swift, credentials from resolve_credentials
    open_store("swift", ...)               the same
    open_store("file:///srv/radswift", ...) LocalStore in that directory

The Swift layer is imported only when used, so the local store works without it.

How many attempts each Swift request gets comes from `retries`, which the caller decides
(cli/: --retries, else RADSWIFT_RETRIES; the publisher: its pod's RADSWIFT_RETRIES), else
the retry policy's default (7 attempts, ~25 s of backoff): a script that prefers failing
fast over riding out a proxy restart sets 1. `environ` is read for Swift credentials only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from radswift.errors import ConfigError, InvalidInput
from radswift.store.base import ObjectStore
from radswift.store.local import LocalStore

DEFAULT_STORE_WORKERS = 16


def open_store(
    url: str | None,
    *,
    environ: Mapping[str, str],
    credentials_file: Path | None = None,
    workers: int = DEFAULT_STORE_WORKERS,
    retries: int | None = None,
) -> ObjectStore:
    """The ObjectStore `url` names (None or "swift": Swift from `environ`/`credentials_file`).

    `retries`: attempts per Swift request (>= 1, else InvalidInput); None: the default."""
    if is_swift_url(url):
        return _swift_store(environ, credentials_file, workers, retries)
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise InvalidInput(f"{url!r}: a local store URL is file:///absolute/path")
        return LocalStore(Path(unquote(parts.path)))
    raise InvalidInput(f"unknown store {url!r}: use 'swift' or file:///absolute/path")


def is_swift_url(url: str | None) -> bool:
    """Whether `url` names Swift (None, "swift", "swift:" or "swift://")."""
    return url is None or url in ("swift", "swift:", "swift://")


STARTUP_PROBE = "radswift-startup-check"
"""A container name nobody uses: check_store asks whether it exists, and writes nothing."""


def check_store(store: ObjectStore) -> None:
    """Prove that `store` answers and accepts our credentials, or raise the error saying why.

    Services call it before they listen (pfioh's `ioh` command; pman should too): with a
    wrong ST_KEY a service that starts anyway fails its first request with a 502, far from
    the cause. This raises what `radswift cp` would: AuthenticationError (exit 77) naming
    the settings to check, StorageUnavailable (69) after the usual retries. It costs one
    authentication and one HEAD of STARTUP_PROBE; nothing is created."""
    store.container_exists(STARTUP_PROBE)


def _swift_store(
    environ: Mapping[str, str], credentials_file: Path | None, workers: int, retries: int | None
) -> ObjectStore:
    try:
        from radswift.store.swift import SwiftStore
        from radswift.swift.credentials import resolve_credentials
        from radswift.swift.retry import RetryPolicy
    except ImportError as exc:
        raise ConfigError(
            f"the Swift store is not available in this installation ({exc.name} is missing);"
            " use --store file:///path for a local store"
        ) from None
    if retries is not None and retries < 1:
        raise InvalidInput(f"retries must be at least 1 attempt (got {retries})")
    creds = resolve_credentials(environ, credentials_file)
    policy = RetryPolicy(max_attempts=retries) if retries is not None else None
    store: ObjectStore = SwiftStore.from_credentials(creds, workers=workers, retry=policy)
    return store
