"""Pushing an entry larger than one segment: segments plus a manifest (Swift SLO).

The transfer engine's one segment writer (radswift.transfer.segments.put_segmented)
stores them in the key's `<key>_segments` container, named for the push id, the
manifest last, so the object appears whole or not at all. What is pfioh's here:
segments are buffered on disk one at a time per in-flight put (the transfer options'
upload_segment_workers at once, two by default), never in memory.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import BinaryIO

from radswift.services.ioh.core.resources import Resources
from radswift.services.ioh.core.spool import ChunkReader, Spooled, spool
from radswift.store.base import ObjectStore
from radswift.transfer.segments import SegmentSource, put_segmented


def put_large(
    store: ObjectStore,
    key: str,
    name: str,
    first: Spooled,
    rest: ChunkReader,
    *,
    resources: Resources,
    account: Callable[[int], None],
    wrote: Callable[[str], None],
    push_id: str,
    content_type: str | None = None,
    metadata: Callable[[], Mapping[str, str]] | None = None,
) -> None:
    """Store `first` then the rest of the entry as segments, then the manifest.

    `metadata` is called once every segment is stored, right before the manifest is
    written (a bundle knows its file count only then); it may raise to abandon the
    object, and the segments are then deleted like on any other failure."""
    segments = _spooled_segments(first, rest, resources, account)
    try:
        put_segmented(
            store, key, name, segments, pool=resources.put_pool, upload_id=push_id,
            in_flight=resources.tuning.transfer.upload_segment_workers,
            content_type=content_type, metadata=metadata,
        )  # fmt: skip
    except BaseException:
        if inspect.getgeneratorstate(segments) == inspect.GEN_CREATED:
            first.close()  # never handed over (the writer failed before asking)
        raise
    finally:
        segments.close()  # a segment spooled but never handed over is closed here
    wrote(name)


def next_segment(
    reader: ChunkReader, resources: Resources, account: Callable[[int], None]
) -> Spooled:
    """The reader's next segment-size piece (fewer bytes at its end), spooled to disk:
    the first piece of an entry of unknown size (whole if the reader is then at its end,
    else the first segment) and every segment after it."""
    return spool(
        reader.take(resources.tuning.transfer.segment_size),
        size_hint=None,
        small=0,
        budget=resources.budget,
        account=account,
    )


def _spooled_segments(
    first: Spooled, rest: ChunkReader, resources: Resources, account: Callable[[int], None]
) -> Generator[SegmentSource]:
    """`first`, then each next segment of `rest` spooled only when the writer asks for it.

    A source handed over belongs to its put (which closes it) or, if that never
    starts, to its discard; one not yet handed over is closed here."""
    segment: Spooled | None = first
    try:
        while segment is not None:
            handed, segment = segment, None
            yield SegmentSource(handed.size, _owned(handed), handed.close)
            if not rest.at_eof():
                segment = next_segment(rest, resources, account)
    finally:
        if segment is not None:
            segment.close()


def _owned(body: Spooled) -> Callable[[], contextlib.AbstractContextManager[BinaryIO]]:
    @contextlib.contextmanager
    def open_body() -> Iterator[BinaryIO]:
        try:
            yield body.body
        finally:
            body.close()

    return open_body
