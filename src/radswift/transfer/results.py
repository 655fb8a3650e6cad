"""What a tree transfer did: counts, time, and every failed file with its reason."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from radswift.errors import TransferError


@dataclass
class TransferResult:
    """`skipped` counts files left alone because they were already up to date (sync);
    `ignored` names what was deliberately not transferred (symlinks, special files);
    `directories` counts empty directories (zero-byte `dir/` markers), never in `files`."""

    files: int
    bytes: int
    skipped: int
    failures: list[tuple[str, str]]
    seconds: float
    ignored: list[tuple[str, str]] = field(default_factory=list)
    directories: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def raise_for_failures(self) -> None:
        """Raise TransferError naming the failed files, if any failed."""
        if self.failures:
            total = self.files + len(self.failures)
            raise TransferError(
                f"{len(self.failures)} of {total} files failed to transfer", self.failures
            )


class ResultCollector:
    """Accumulates outcomes from many worker threads into one TransferResult."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self.files = 0
        self.directories = 0
        self.bytes = 0
        self.skipped = 0
        self.failures: list[tuple[str, str]] = []
        self.ignored: list[tuple[str, str]] = []

    def done(self, nbytes: int) -> None:
        with self._lock:
            self.files += 1
            self.bytes += nbytes

    def done_directory(self) -> None:
        """An empty directory (its marker) transferred: counted apart from files."""
        with self._lock:
            self.directories += 1

    def skip(self) -> None:
        with self._lock:
            self.skipped += 1

    def fail(self, path: str, reason: str) -> None:
        with self._lock:
            self.failures.append((path, reason))

    def ignore(self, path: str, reason: str) -> None:
        with self._lock:
            self.ignored.append((path, reason))

    def result(self) -> TransferResult:
        with self._lock:
            return TransferResult(
                files=self.files,
                bytes=self.bytes,
                skipped=self.skipped,
                failures=sorted(self.failures),
                seconds=time.monotonic() - self._start,
                ignored=sorted(self.ignored),
                directories=self.directories,
            )
