"""The object-store interface every backend implements, and the values it passes around.

Two backends implement it with the same semantics: Swift (`radswift.store.swift`) and
a local directory (`radswift.store.local`, the embedded default). Everything above this
layer (transfer engine, pfioh, publisher) sees only `ObjectStore`.

Duties of an implementation, checked by the contract suite in tests/contract:
- `put_object` reads exactly `size` bytes from a seekable body, hashes them while
  sending, and raises IntegrityError unless the store vouches for the same MD5. It may
  retry, rewinding the body to where it started. A failed put leaves no object behind
  (or the previous one, untouched).
- `open_object` streams; the reader's `segments` lets the caller verify a large object
  segment by segment, since its ETag is not the MD5 of its bytes. With `length` it
  fetches only that window (a bounded range: Swift is asked for those bytes, not more),
  so a caller reading DICOM headers does not pay for the pixels.
- `list_objects` yields every match in name order (UTF-8 byte order), across pages.
- Retries live in the backend, once; callers above never retry a store call.
- Errors are radswift.errors types only (NotFound, Conflict, StorageUnavailable, ...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import BinaryIO, Protocol, Self, runtime_checkable

from radswift.objectinfo import ObjectInfo as ObjectInfo  # (re-exported: the contract's values)
from radswift.objectinfo import SegmentRef as SegmentRef

DIRECTORY_CONTENT_TYPE = "application/directory"
"""Content type of the zero-byte marker objects (`name/`) that keep empty directories."""


class ObjectReader(Protocol):
    """A streamed object body. Close it (or use it as a context manager)."""

    @property
    def info(self) -> ObjectInfo: ...

    @property
    def segments(self) -> Sequence[SegmentRef] | None:
        """For a large object, its segments in order, to verify each by MD5; else None."""
        ...

    def iter_chunks(self) -> Iterator[bytes]:
        """The object's bytes, from the requested offset to its end (or the requested
        length), in chunks."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class ObjectStore(Protocol):
    """A flat namespace of containers holding named objects, as Swift has."""

    @property
    def description(self) -> str:
        """Where this store is, for messages (never a secret)."""
        ...

    def ensure_container(self, container: str) -> None:
        """Create the container if it does not exist yet."""
        ...

    def container_exists(self, container: str) -> bool: ...

    def delete_container(self, container: str) -> None:
        """Delete an empty container. NotFound if absent, Conflict if it holds objects."""
        ...

    def list_objects(
        self, container: str, prefix: str = "", *, marker: str = ""
    ) -> Iterator[ObjectInfo]:
        """Every object whose name starts with `prefix` and sorts after `marker`, in order.

        NotFound if the container does not exist."""
        ...

    def head_object(self, container: str, name: str) -> ObjectInfo:
        """NotFound if absent."""
        ...

    def put_object(
        self,
        container: str,
        name: str,
        body: BinaryIO,
        size: int,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Store exactly `size` bytes read from `body` (seekable), verified by MD5."""
        ...

    def put_manifest(
        self,
        container: str,
        name: str,
        segments: Sequence[SegmentRef],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        """Make `name` the concatenation of already stored segments (Swift SLO)."""
        ...

    def open_object(
        self, container: str, name: str, *, offset: int = 0, length: int | None = None
    ) -> ObjectReader:
        """Stream an object from `offset`, to its end or `length` bytes on (fewer only at
        its end). NotFound if absent. `info.size` stays the whole object's size."""
        ...

    def delete_object(self, container: str, name: str) -> None:
        """Delete an object (and a large object's segments). NotFound if absent."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
