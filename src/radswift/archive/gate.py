"""EntryGate: what every writer checks of each entry, so it stores only what every reader
accepts.

pfioh takes a tree in four forms (an archive, a multipart form, a legacy raw file, a
single-file PUT) and stores it in two layouts (one object per file, one bundle). Readers
(iter_archive over a bundle, a pull's zip or tar, `radswift cp`, the publisher) refuse
unsafe or duplicate names and trees past the limits; a writer that stored such a tree
would leave data no reader can take back (`a` and `a/b` in one bundle broke every pull).
So each push runs every entry through one gate, built from the server's one
ArchiveLimits: the same name rules (radswift.archive.paths), the same path registry
(duplicates, a file that is also a directory), the same caps on entries, entry bytes and
total bytes, counted on the bytes that actually flow. An archive is checked by its reader
too; a form, a raw file or a PUT only here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from radswift.archive.limits import ArchiveLimits, Tally
from radswift.archive.paths import PathRegistry, normalize_entry_path
from radswift.errors import UnsafeArchive


class EntryGate:
    """The checks of one push; `admit` each entry, then stream its bytes through `counted`."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self._tally = Tally(limits)
        self._registry = PathRegistry()

    @property
    def total_bytes(self) -> int:
        return self._tally.total_bytes

    def admit(self, path: str, *, is_dir: bool, size: int | None) -> str:
        """The entry's normalized path, or UnsafeArchive (413 for a limit) if a reader
        would refuse it; `size` is its declared size, if known, checked up front."""
        normal = normalize_entry_path(path, max_name_bytes=self.limits.max_name_bytes)
        if not normal:
            raise UnsafeArchive(f"entry {path[:200]!r} has an empty name", reason="bad_name")
        self._registry.add(normal, is_dir=is_dir)
        self._tally.start_entry(normal, 0 if is_dir else size)
        return normal

    def counted(self, path: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The entry's bytes, refused (413) as soon as a cap is passed."""
        done = 0
        for chunk in chunks:
            done += len(chunk)
            self._tally.add_bytes(path, done, len(chunk))
            yield chunk
