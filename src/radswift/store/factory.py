"""Building the store a command asked for: Swift by default, a local directory on request.

    open_store(None, ...)                  Swift, credentials from resolve_credentials
    open_store("swift", ...)               the same
    open_store("file:///srv/radswift", ...) LocalStore in that directory

The Swift layer is imported only when used, so the local store works without it.
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
) -> ObjectStore:
    """The ObjectStore `url` names (None or "swift": Swift from `environ`/`credentials_file`)."""
    if url is None or url in ("swift", "swift:", "swift://"):
        return _swift_store(environ, credentials_file, workers)
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise InvalidInput(f"{url!r}: a local store URL is file:///absolute/path")
        return LocalStore(Path(unquote(parts.path)))
    raise InvalidInput(f"unknown store {url!r}: use 'swift' or file:///absolute/path")


def _swift_store(
    environ: Mapping[str, str], credentials_file: Path | None, workers: int
) -> ObjectStore:
    try:
        from radswift.store.swift import SwiftStore
        from radswift.swift.credentials import resolve_credentials
    except ImportError as exc:
        raise ConfigError(
            f"the Swift store is not available in this installation ({exc.name} is missing);"
            " use --store file:///path for a local store"
        ) from None
    creds = resolve_credentials(environ, credentials_file)
    store: ObjectStore = SwiftStore.from_credentials(creds, workers=workers)
    return store
