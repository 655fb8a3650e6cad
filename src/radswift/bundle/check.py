"""Whether a planned tree can be a bundle at all, decided before a byte is stored.

Why: every reader of a bundle (publisher get, pfioh pull, `radswift cp` down) unpacks
it with radswift.archive's safe reader, which refuses names it cannot trust (a
backslash, a leading drive letter such as `T:1.dcm`, a name that is not UTF-8) and
archives beyond its ArchiveLimits. Such a tree is fine on disk and in Swift as
per-file objects, but as a bundle it would be stored and then be unreadable by
everyone: refusing it up front keeps a stored bundle always readable, and lets the
publisher fall back to the objects layout instead of losing a job's results.
"""

from __future__ import annotations

from collections.abc import Sequence

from radswift.archive import ArchiveLimits
from radswift.archive.paths import normalize_entry_path
from radswift.bundle.layout import LayoutEntry
from radswift.errors import InvalidInput, UnsafeArchive

UNBUNDLABLE_NAME = "unbundlable_name"
UNBUNDLABLE_REASONS = frozenset(
    {UNBUNDLABLE_NAME, "too_many_entries", "entry_too_large", "archive_too_large"}
)
"""Reasons of the InvalidInput check_bundlable raises: the tree, not the store, is at fault,
and the same tree can still be stored as per-file objects."""


def check_bundlable(entries: Sequence[LayoutEntry], limits: ArchiveLimits) -> None:
    """Raise InvalidInput (reason in UNBUNDLABLE_REASONS) if the readers would refuse the
    bundle of `entries`: a name they reject, or a cap of `limits` broken."""
    for entry in entries:
        _check_name(entry.path, limits)
    if len(entries) > limits.max_entries:
        raise InvalidInput(
            f"the tree has {len(entries)} entries (files and empty directories); a bundle"
            f" holds at most {limits.max_entries} (max_entries): use the objects layout",
            reason="too_many_entries",
        )
    biggest = max(entries, key=lambda entry: entry.size, default=None)
    if biggest is not None and biggest.size > limits.max_entry_bytes:
        raise InvalidInput(
            f"{biggest.path!r} is {biggest.size} bytes; a file in a bundle is at most"
            f" {limits.max_entry_bytes} bytes (max_entry_bytes): use the objects layout",
            reason="entry_too_large",
        )
    total = sum(entry.size for entry in entries)
    if total > limits.max_total_bytes:
        raise InvalidInput(
            f"the tree holds {total} bytes; a bundle holds at most {limits.max_total_bytes}"
            " (max_total_bytes): use the objects layout",
            reason="archive_too_large",
        )


def _check_name(path: str, limits: ArchiveLimits) -> None:
    try:
        normalized = normalize_entry_path(path, max_name_bytes=limits.max_name_bytes)
    except UnsafeArchive as exc:
        why = exc.message
    else:
        if normalized == path:
            return
        why = f"it would be read back as {normalized!r}"
    raise InvalidInput(
        f"{path!r} cannot be stored in a bundle ({why}); nothing was stored:"
        " use the objects layout or rename the file",
        reason=UNBUNDLABLE_NAME,
    )
