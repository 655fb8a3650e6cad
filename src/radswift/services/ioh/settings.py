"""What a pfioh instance is configured with: one frozen value built by the CLI.

The service never reads the environment or argv; `radswift.cli.serve` builds this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from radswift import __version__
from radswift.archive.limits import ArchiveLimits
from radswift.bundle import Layout
from radswift.errors import InvalidInput
from radswift.transfer.options import TransferOptions

MiB = 1024 * 1024

DEFAULT_PORT = 5055
DEFAULT_IP = "127.0.0.1"
DEFAULT_WORKERS = 12
"""Objects of one push uploaded, or of one pull fetched ahead, at once (per transfer; a
shared pool caps the total): pfioh's `TransferOptions.workers`."""
DEFAULT_SEGMENTS_IN_FLIGHT = 2
"""Segments of one large pushed entry uploaded at once, each spooled to disk first:
pfioh's `TransferOptions.upload_segment_workers` (the CLI's is 1: it reads segments
from the file in place, pfioh spools the next one while the previous one goes up)."""
DEFAULT_TRANSFER = TransferOptions(
    workers=DEFAULT_WORKERS, upload_segment_workers=DEFAULT_SEGMENTS_IN_FLIGHT
)
"""The transfer engine's knobs as pfioh sets them (segment size: the engine's, 1 GiB)."""
DEFAULT_POOL_WORKERS = 24
"""Threads that talk to the store for all pushes and pulls together."""
DEFAULT_MEMORY_BUDGET = 48 * MiB
"""Bytes of pushed entries and prefetched pull data held in memory across all transfers;
beyond it pushes spool to disk and pulls fetch one object at a time."""
DEFAULT_SMALL_ENTRY = 4 * MiB
"""Entries up to this size may be buffered in memory (if the budget allows)."""
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
    """pfioh's concurrency, memory and admission knobs; the defaults keep RSS well under
    150 MiB.

    `transfer`: what pfioh shares with `radswift cp`, in the transfer engine's own type
    (workers: objects of one push or pull at once; segment_size: pushed entries larger
    than this are stored as segments plus a manifest, Swift SLO; upload_segment_workers:
    segments of one such entry at once). The rest is pfioh's alone: the thread pools
    shared by every transfer of the process, the memory budget, what a push may hold in
    memory, how far a pull prefetches, and the HTTP admission limits."""

    transfer: TransferOptions = DEFAULT_TRANSFER
    pool_workers: int = DEFAULT_POOL_WORKERS
    memory_budget: int = DEFAULT_MEMORY_BUDGET
    small_entry: int = DEFAULT_SMALL_ENTRY
    prefetch_bytes: int = DEFAULT_PREFETCH_BYTES
    body_idle_timeout: float = DEFAULT_BODY_IDLE_TIMEOUT
    max_pushes: int = DEFAULT_MAX_PUSHES
    max_pushes_per_client: int = DEFAULT_MAX_PUSHES_PER_CLIENT
    max_pushes_per_key: int = DEFAULT_MAX_PUSHES_PER_KEY

    def __post_init__(self) -> None:
        if self.pool_workers < 1:
            raise InvalidInput("worker counts must be at least 1")
        if min(self.max_pushes, self.max_pushes_per_client, self.max_pushes_per_key) < 1:
            raise InvalidInput("the push caps must be at least 1")
        if not self.body_idle_timeout > 0:
            raise InvalidInput("the body idle timeout must be positive")


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
