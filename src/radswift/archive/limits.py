"""How much an archive may hold, and the running tally that enforces it while bytes stream.

Declared sizes (tar headers, zip local headers) are checked up front so an honest
oversized archive is refused before any data moves; the tally then counts the
bytes actually produced, so a header that lies cannot get past. Compressed
formats also bound the ratio of bytes produced to bytes consumed from the input:
that is what stops a zip or gzip bomb long before the disk or the store fills.
"""

from __future__ import annotations

from dataclasses import dataclass

from radswift.errors import UnsafeArchive
from radswift.names import MAX_OBJECT_NAME_BYTES

GIB = 1024**3
DEFAULT_MAX_ENTRIES = 200_000
DEFAULT_MAX_TOTAL_BYTES = 256 * GIB
DEFAULT_MAX_ENTRY_BYTES = 64 * GIB
DEFAULT_MAX_RATIO = 200.0
DEFAULT_MAX_HEADER_BYTES = 4096
"""A tar's special header (pax x/g, GNU long name L/K) larger than this is refused unread.
Small on purpose: tarfile reads each whole, and its pax regex is quadratic on Pythons
without the CVE-2024-6232 fix (3.11.7 here: 17 ms at 4 KiB, 66 ms at 8 KiB, 4.8 s at
64 KiB on the 2-core test machine; bench/pax_header_stall.py measures it). The regex
holds the GIL, so a worker thread does not spare the event loop: only the size does.
Honest headers are far smaller (a 1024-byte path, times, a few xattrs)."""
# Below this many produced bytes the ratio is not judged: a handful of tiny,
# very compressible files (empty DICOM headers, JSON) must not trip it.
RATIO_GRACE_BYTES = 1024 * 1024
# The ratio is also judged per window of this many produced bytes, so a bomb
# placed after gigabytes of honest, incompressible data is caught just as fast.
RATIO_WINDOW_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ArchiveLimits:
    """Caps on one archive; breaching any raises UnsafeArchive(too_large=True) (HTTP 413)."""

    max_entries: int = DEFAULT_MAX_ENTRIES
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES
    max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES
    max_ratio: float = DEFAULT_MAX_RATIO
    max_name_bytes: int = MAX_OBJECT_NAME_BYTES
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES


class Tally:
    """Counts entries and produced bytes of one archive against its limits."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.entries = 0
        self.total_bytes = 0
        self._window = (0, 0)  # (produced, consumed) where the current ratio window began

    def start_entry(self, path: str, declared: int | None) -> None:
        """Count a new entry and refuse it if its declared size already breaks a cap."""
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise UnsafeArchive(
                f"the archive has more than {self.limits.max_entries} entries",
                reason="too_many_entries",
                too_large=True,
            )
        if declared is None:
            return
        if declared < 0:
            raise UnsafeArchive(f"entry {path!r} declares a negative size", reason="bad_size")
        self._check_entry(path, declared)
        self._check_total(self.total_bytes + declared)

    def add_bytes(self, path: str, entry_bytes: int, produced: int) -> None:
        """Account `produced` more bytes; `entry_bytes` is the entry's running count."""
        self.total_bytes += produced
        self._check_entry(path, entry_bytes)
        self._check_total(self.total_bytes)

    def check_ratio(self, produced: int, consumed: int) -> None:
        """Refuse a compressed stream that expands beyond max_ratio (a bomb), overall or lately."""
        self._check_ratio(produced, consumed)
        start_produced, start_consumed = self._window
        if produced - start_produced >= RATIO_WINDOW_BYTES:
            self._check_ratio(produced - start_produced, consumed - start_consumed)
            self._window = (produced, consumed)

    def _check_ratio(self, produced: int, consumed: int) -> None:
        if produced > RATIO_GRACE_BYTES and produced > self.limits.max_ratio * max(consumed, 1):
            raise UnsafeArchive(
                f"the archive expands more than {self.limits.max_ratio:g} times "
                f"({produced} bytes from {consumed} compressed): refusing a likely bomb",
                reason="compression_ratio",
                too_large=True,
            )

    def _check_entry(self, path: str, size: int) -> None:
        if size > self.limits.max_entry_bytes:
            raise UnsafeArchive(
                f"entry {path!r} is larger than {self.limits.max_entry_bytes} bytes",
                reason="entry_too_large",
                too_large=True,
            )

    def _check_total(self, total: int) -> None:
        if total > self.limits.max_total_bytes:
            raise UnsafeArchive(
                f"the archive holds more than {self.limits.max_total_bytes} bytes",
                reason="archive_too_large",
                too_large=True,
            )
