"""Pushing an entry larger than one segment: segments plus a manifest (Swift SLO).

Segments go to the key's `<key>_segments` container under `<object name>/<push id>/<n>`
(the swift CLI's convention, readable by any client); the manifest is written last,
so the object appears whole or not at all. Segments are buffered on disk one at a
time per in-flight put (two at once), never in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future

from radswift.errors import NotFound, RadswiftError
from radswift.names import segments_container
from radswift.services.ioh.core.resources import Resources
from radswift.services.ioh.core.spool import ChunkReader, Spooled, spool
from radswift.store.base import ObjectStore, SegmentRef

log = logging.getLogger("radswift.services.ioh")
SEGMENTS_IN_FLIGHT = 2


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
    container = segments_container(key)
    store.ensure_container(container)
    pending: list[tuple[Future[SegmentRef], Spooled]] = []
    done: list[SegmentRef] = []
    segment: Spooled | None = first
    index = 0
    try:
        while segment is not None:
            seg_name = f"{name}/{push_id}/{index:08d}"
            pending.append((resources.put_pool.submit(_put_segment, store, container,
                                                      seg_name, segment), segment))
            segment = None  # the put owns it now (and closes it): never close it here
            index += 1
            if len(pending) >= SEGMENTS_IN_FLIGHT:
                done.append(pending.pop(0)[0].result())
            if not rest.at_eof():
                segment = spool(rest.take(resources.tuning.segment_size), size_hint=None,
                                small=0, budget=resources.budget, account=account)
        done.extend(f.result() for f, _ in pending)
        pending = []
        store.put_manifest(key, name, done, content_type=content_type,
                           metadata=metadata() if metadata is not None else None)
        wrote(name)
    except BaseException:
        if segment is not None:
            segment.close()
        _settle(pending, done)
        _delete_segments(store, container, done)
        raise


def _settle(pending: list[tuple[Future[SegmentRef], Spooled]], done: list[SegmentRef]) -> None:
    """After a failure: cancel the puts not started (closing their bodies, which they
    would have closed), wait for the running ones, and add the stored ones to `done`."""
    for fut, body in pending:
        if fut.cancel():
            body.close()
    for fut, _ in pending:
        if not fut.cancelled() and fut.exception() is None:
            done.append(fut.result())


def _put_segment(store: ObjectStore, container: str, name: str, body: Spooled) -> SegmentRef:
    try:
        info = store.put_object(container, name, body.body, body.size)
        return SegmentRef(container=container, name=name, etag=info.etag, size=body.size)
    finally:
        body.close()


def _delete_segments(store: ObjectStore, container: str, refs: list[SegmentRef]) -> None:
    for ref in refs:
        try:
            store.delete_object(container, ref.name)
        except NotFound:
            pass
        except RadswiftError as err:
            log.error("cannot delete the segment %r: %s", ref.name, err.message)
