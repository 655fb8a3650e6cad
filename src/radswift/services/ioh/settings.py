"""What a pfioh instance is configured with: one frozen value built by the CLI.

The service never reads the environment or argv; `radswift.cli.serve` builds this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from radswift import __version__
from radswift.archive.limits import ArchiveLimits
from radswift.bundle import Layout
from radswift.errors import InvalidInput

MiB = 1024 * 1024
GiB = 1024 * MiB

DEFAULT_PORT = 5055
DEFAULT_IP = "127.0.0.1"
DEFAULT_PUT_WORKERS = 12
"""Objects of one push uploaded at once (per push; a shared pool caps the total)."""
DEFAULT_GET_WORKERS = 12
"""Objects of one pull fetched ahead at once (per pull; a shared pool caps the total)."""
DEFAULT_POOL_WORKERS = 24
"""Threads that talk to the store for all pushes and pulls together."""
DEFAULT_MEMORY_BUDGET = 48 * MiB
"""Bytes of pushed entries and prefetched pull data held in memory across all transfers;
beyond it pushes spool to disk and pulls fetch one object at a time."""
DEFAULT_SMALL_ENTRY = 4 * MiB
"""Entries up to this size may be buffered in memory (if the budget allows)."""
DEFAULT_SEGMENT_SIZE = 1 * GiB
"""Pushed files larger than this are stored as segments plus a manifest (Swift SLO)."""
DEFAULT_PREFETCH_BYTES = 24 * MiB
"""Bytes of small objects a pull fetches ahead of the archive it is writing."""
DEFAULT_BODY_IDLE_TIMEOUT = 30.0
"""Seconds an upload may send nothing before it is aborted (408, nothing stored)."""
DEFAULT_MAX_PUSHES = 256
"""Uploads (pushes and single-file PUTs) in flight at once; more are refused (429)."""
DEFAULT_MAX_PUSHES_PER_CLIENT = 16
"""Uploads in flight from one client address (behind a proxy: the proxy's address)."""
DEFAULT_MAX_PUSHES_PER_KEY = 8
"""Uploads in flight to one key (a replacing push holds its key alone anyway)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Tuning:
    """Concurrency and memory knobs; the defaults keep RSS well under 150 MiB."""

    put_workers: int = DEFAULT_PUT_WORKERS
    get_workers: int = DEFAULT_GET_WORKERS
    pool_workers: int = DEFAULT_POOL_WORKERS
    memory_budget: int = DEFAULT_MEMORY_BUDGET
    small_entry: int = DEFAULT_SMALL_ENTRY
    segment_size: int = DEFAULT_SEGMENT_SIZE
    prefetch_bytes: int = DEFAULT_PREFETCH_BYTES
    body_idle_timeout: float = DEFAULT_BODY_IDLE_TIMEOUT
    max_pushes: int = DEFAULT_MAX_PUSHES
    max_pushes_per_client: int = DEFAULT_MAX_PUSHES_PER_CLIENT
    max_pushes_per_key: int = DEFAULT_MAX_PUSHES_PER_KEY

    def __post_init__(self) -> None:
        if min(self.put_workers, self.get_workers, self.pool_workers) < 1:
            raise InvalidInput("worker counts must be at least 1")
        if min(self.max_pushes, self.max_pushes_per_client, self.max_pushes_per_key) < 1:
            raise InvalidInput("the push caps must be at least 1")
        if not self.body_idle_timeout > 0:
            raise InvalidInput("the body idle timeout must be positive")
        if self.segment_size < 1024:
            raise InvalidInput("the segment size must be at least 1024 bytes")


@dataclass(frozen=True, slots=True, kw_only=True)
class IohSettings:
    """Everything a pfioh app needs besides its store.

    tokens: the accepted bearer tokens, or None when token auth is off.
    http_response / create_dirs: legacy flags, accepted for compatibility (see the CLI help).
    one_shot: exit after answering one request (the legacy behaviour without --forever).
    """

    tokens: frozenset[str] | None = None
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    """Caps on one push (archive or multipart); each breach is a 4xx that stores nothing."""
    tuning: Tuning = field(default_factory=Tuning)
    layout: Layout = Layout.OBJECTS
    """How a push stores an area when it does not say (`?layout=`): one object per file,
    or one tar object (see radswift.bundle); the legacy pushPath always uses this."""
    swift_storage: bool = False
    http_response: bool = False
    create_dirs: bool = False
    one_shot: bool = False
    name: str = "pfioh"
    version: str = __version__

    def __post_init__(self) -> None:
        object.__setattr__(self, "layout", Layout.parse(self.layout))

    def __repr__(self) -> str:
        tokens = "off" if self.tokens is None else f"{len(self.tokens)} token(s)"
        return f"IohSettings(auth={tokens}, limits={self.limits!r}, swift={self.swift_storage})"
