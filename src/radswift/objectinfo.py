"""What every layer says about a stored object: ObjectInfo, and SegmentRef for a segment.

The values of the ObjectStore contract (store/base.py), defined below every layer so
that the Swift layer can return them as they are (swift/objects.py parses Swift's
headers and listings into ObjectInfo; an SLO manifest is a list of SegmentRef) and the
store adds no copy of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectInfo:
    """What a store says about one object."""

    name: str
    size: int
    etag: str
    """Unquoted. For a plain object the hex MD5 of its bytes; for a large object not."""
    last_modified: str | None = None
    content_type: str | None = None
    large: bool = False
    """True for a manifest of segments (Swift SLO)."""
    metadata: Mapping[str, str] = field(default_factory=dict)
    """User metadata (`X-Object-Meta-*`, lower-case keys without the prefix); head/get only."""

    @property
    def is_directory_marker(self) -> bool:
        return self.name.endswith("/") and self.size == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentRef:
    """One segment of a large object: where it is stored, its MD5 and size."""

    container: str
    name: str
    etag: str
    size: int
