"""Large objects: the one segment writer, the one naming scheme, and old segments.

An object larger than the segment size is stored as segments in `<container>_segments`
plus a manifest (Swift SLO) under the object's own name, written LAST, so readers see
the old object or the new one, never a partial one. Every writer (`radswift cp`, the
publisher, bundles, pfioh pushes) goes through `put_segmented`; every segment is named
by `segment_name`: `<object>/slo/<upload id>/<index:08d>`, where the upload id is the
swift CLI's `<mtime>/<size>/<segment size>` (`cli_upload_id`) for a file whose size is
known, or a writer's own unique id (a pfioh push id). Any Swift client reads what
radswift wrote (through the manifest) and the other way round.

Segments written before this scheme was shared stay recognised (`is_segment_of`):
pfioh once named them `<object>/<push id>/<index:08d>`. A manifest's deletion deletes
its segments whatever their names (the store's duty).
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import BinaryIO

from radswift.errors import NotFound, RadswiftError
from radswift.names import segments_container
from radswift.store.base import ObjectInfo, ObjectStore, SegmentRef
from radswift.transfer.remove import delete_many

log = logging.getLogger(__name__)

_UPLOAD_ID = r"(?:-?\d+(?:\.\d+)?/\d+/\d+|[0-9a-f]{32})"
"""The swift CLI's `<mtime>/<size>/<segment size>`, or a 32-hex writer id (pfioh's)."""


def segments_container_of(container: str) -> str:
    """`<container>_segments`, as radswift.names and the swift CLI name it."""
    return segments_container(container)


def cli_upload_id(stamp: str, size: int, segment_size: int) -> str:
    """The swift CLI's upload id: `<mtime>/<size>/<segment size>` (stamp: mtime as `%f`)."""
    return f"{stamp}/{size}/{segment_size}"


def segment_name(name: str, upload_id: str, index: int) -> str:
    """The name of segment `index` of one upload of object `name` (module docstring)."""
    return f"{name}/slo/{upload_id}/{index:08d}"


def is_segment_of(name: str, candidate: str) -> bool:
    """Is `candidate` a segment some radswift or swift CLI upload of `name` wrote
    (today's scheme, or pfioh's earlier `<name>/<push id>/<index>`)?"""
    if not candidate.startswith(name + "/"):
        return False
    rest = candidate[len(name) + 1 :]
    return re.fullmatch(rf"(?:slo/{_UPLOAD_ID}|[0-9a-f]{{32}})/\d{{8}}", rest) is not None


def split(size: int, segment_size: int) -> Iterator[tuple[int, int]]:
    """(offset, length) of each segment of a file of `size` bytes."""
    for offset in range(0, size, segment_size):
        yield offset, min(segment_size, size - offset)


def stale_segments(store: ObjectStore, container: str, name: str, keep: set[str]) -> list[str]:
    """Names of the segments any earlier upload of `name` left, minus `keep`."""
    try:
        return [
            info.name
            for info in store.list_objects(segments_container_of(container), name + "/")
            if info.name not in keep and is_segment_of(name, info.name)
        ]
    except NotFound:
        return []


def _nothing() -> None:
    """A segment source with nothing to release."""


@dataclass(frozen=True, slots=True)
class SegmentSource:
    """One segment's bytes. `open` is called in the segment pool right before the put
    (and its context closed right after); `discard` only if the put never starts."""

    size: int
    open: Callable[[], AbstractContextManager[BinaryIO]]
    discard: Callable[[], None] = field(default=_nothing)


@dataclass(frozen=True, slots=True)
class LargeObject:
    """What put_segmented stored: the manifest's info and its segments in order."""

    info: ObjectInfo
    segments: list[SegmentRef]


def put_segmented(
    store: ObjectStore,
    container: str,
    name: str,
    sources: Iterable[SegmentSource],
    *,
    pool: Executor,
    upload_id: str,
    in_flight: int = 0,
    content_type: str | None = None,
    metadata: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
) -> LargeObject:
    """Put each source as a segment in `pool`, then the manifest, last.

    `sources` is read lazily: with `in_flight` > 0, no more than that many segments are
    handed to the pool at once (a streaming writer spools the next one meanwhile).
    `metadata` may be a callable, called once every segment is stored (a bundle knows
    its file count only then); it may raise to abandon the object. On any failure the
    segments already stored are deleted (best effort, logged) and the error re-raised."""
    seg_container = segments_container_of(container)
    store.ensure_container(seg_container)
    pending: deque[tuple[Future[SegmentRef], SegmentSource]] = deque()
    done: list[SegmentRef] = []
    try:
        for index, source in enumerate(sources):
            seg_name = segment_name(name, upload_id, index)
            future = pool.submit(_put_segment, store, seg_container, seg_name, source)
            pending.append((future, source))
            if in_flight and len(pending) >= in_flight:
                done.append(pending.popleft()[0].result())
        while pending:
            done.append(pending.popleft()[0].result())
        meta = metadata() if callable(metadata) else metadata
        info = store.put_manifest(container, name, done, content_type=content_type, metadata=meta)
    except BaseException:
        _settle(pending, done)
        _discard(store, seg_container, done)
        raise
    return LargeObject(info, done)


def _put_segment(
    store: ObjectStore, container: str, name: str, source: SegmentSource
) -> SegmentRef:
    with source.open() as body:
        info = store.put_object(container, name, body, source.size)
    return SegmentRef(container=container, name=name, etag=info.etag, size=source.size)


def _settle(
    pending: deque[tuple[Future[SegmentRef], SegmentSource]], done: list[SegmentRef]
) -> None:
    """After a failure: cancel the puts not started (discarding their sources), wait for
    the running ones (never closing a body under its put), and add the stored ones."""
    for future, source in pending:
        if future.cancel():
            source.discard()
    wait([future for future, _ in pending])
    for future, _ in pending:
        if not future.cancelled() and future.exception() is None:
            done.append(future.result())


def _discard(store: ObjectStore, container: str, refs: list[SegmentRef]) -> None:
    """A failed large object leaves no segment behind (best effort: the original error
    is the one to report, so these failures are only logged)."""
    try:
        result = delete_many(store, container, [ref.name for ref in refs])
    except (RadswiftError, OSError) as exc:
        log.error("cannot delete the segments of a failed upload in %r: %s", container, exc)
        return
    for seg, reason in result.failures:
        log.error("cannot delete the segment %r of a failed upload: %s", seg, reason)
