"""Pushing an area as ONE tar object: the bundle layout (the contract is radswift.bundle).

Why: Swift pays a fixed cost per object, so thousands of small DICOM files move several
times faster as one object. The uploaded entries, already read by the safe archive or
multipart readers (with their limits), are written again as a pax tar
(radswift.archive.tar_stream), and that byte stream is cut into segment-size pieces, each
spooled to disk: one piece is put as a plain object; more become segments plus a
manifest written last (core/large.py). A tar header carries the size before the data, so
entries whose size the upload does not declare (zip data descriptors, multipart parts)
are spooled first (core/spool.py), counted against the push's size limit as they arrive.

All or nothing: the bundle object is the last thing written, so a refused, failed or
interrupted push leaves at most segments, which are deleted; readers never see a part.
So the bundle's name needs no hiding while the push runs: readers keep seeing the old
bundle (a re-push) until the new one replaces it. A bundle push runs alone on its key
(an exclusive claim): no per-file push or single-file PUT can add objects beside it.
Layouts never mix: an area that already holds anything is a Conflict unless `replace`,
and then the old objects (per-file ones, or the old bundle's segments) are deleted only
after the new bundle is stored, hidden from readers first, so a reader sees the old
tree or the new one. Failing to delete them then is logged, not reported: the new
bundle is live (readers see a mixed area, a 409, until they are deleted).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from functools import partial

from radswift.archive import OutEntry, tar_stream
from radswift.archive.gate import EntryGate
from radswift.archive.limits import ArchiveLimits
from radswift.bundle import BUNDLE_BASENAME, BYTES_META, FILES_META, bundle_object
from radswift.errors import Conflict, InvalidInput, NotFound, UnsafeArchive
from radswift.generation import pointer_object
from radswift.names import validate_key, validate_object_name
from radswift.services.ioh.core.claims import PushTicket
from radswift.services.ioh.core.keys import delete_leftovers
from radswift.services.ioh.core.large import next_segment, put_large
from radswift.services.ioh.core.push import AREAS, PushEntry, PushResult, drop_if_empty
from radswift.services.ioh.core.replace import before_writing, retire
from radswift.services.ioh.core.resources import Resources
from radswift.services.ioh.core.spool import ChunkReader, Spooled, spool
from radswift.store.base import ObjectStore, SegmentRef

log = logging.getLogger("radswift.services.ioh")
TAR_CONTENT_TYPE = "application/x-tar"
READ_CHUNK = 1024 * 1024


@dataclass(slots=True)
class _Tally:
    """Counts of one bundle push; its gate applies the limits and path rules."""

    gate: EntryGate
    on_bytes: Callable[[int], None]
    files: int = 0
    dirs: int = 0
    total: int = 0

    def account(self, nbytes: int) -> None:
        self.total += nbytes
        self.on_bytes(nbytes)

    def counted(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.account(len(chunk))
            yield chunk

    def metadata(self) -> dict[str, str]:
        return {FILES_META: str(self.files), BYTES_META: str(self.total)}


def push_bundle(
    store: ObjectStore,
    key: str,
    area: str,
    entries: Iterable[tuple[PushEntry, Iterable[bytes] | None]],
    *,
    resources: Resources,
    limits: ArchiveLimits,
    replace: bool = False,
    on_bytes: Callable[[int], None] | None = None,
) -> PushResult:
    """Store every entry as the one bundle object of `key`/`area`, all or nothing."""
    validate_key(key)
    if area not in AREAS:
        raise InvalidInput(f"the area must be one of {', '.join(AREAS)}")
    name = bundle_object(area)
    ticket = resources.claims.begin(key, exclusive=True)  # alone on the key, or 409
    created = False
    try:
        before_writing(resources, key)
        resources.claims.claim(ticket, name, hide=False)  # the old bundle stays readable
        created = not store.container_exists(key)
        store.ensure_container(key)
        if not replace:
            _check_still_empty(store, key, area, resources)  # fail before reading the body
        old = [o.name for o in store.list_objects(key, area)]
        old_segments = _segments_of(store, key, name) if name in old else []
        tally = _Tally(gate=EntryGate(limits), on_bytes=on_bytes or (lambda n: None))

        def commit_metadata() -> Mapping[str, str]:
            if not replace:
                _check_still_empty(store, key, area, resources)
            return tally.metadata()

        stream = tar_stream(_out_entries(area, entries, tally, resources))
        _store_stream(
            store, key, name, stream, resources=resources, ticket=ticket, metadata=commit_metadata
        )
        replaced = [n for n in old if n != name]
        resources.claims.hide(ticket, replaced)  # readers now see the new bundle alone
        _unpoint(store, key, area, replaced)
        retire(
            resources,
            key,
            area,  # after the reads of the old tree
            lambda: _delete_old(store, key, replaced, old_segments, resources),
        )
        return PushResult(
            key=key, area=area, files=tally.files, directories=tally.dirs, bytes=tally.total
        )
    except BaseException:
        if created:
            resources.claims.if_alone(ticket, lambda: drop_if_empty(store, key))
        raise
    finally:
        resources.claims.end(ticket)


def _occupied(key: str, area: str, names: list[str]) -> Conflict:
    what = (
        "a bundle"
        if bundle_object(area) in names
        else f"{len(names)} objects (stored, or being pushed now)"
    )
    return Conflict(
        f"the area {area!r} of the key {key!r} already holds {what}: "
        "push with replace=true to replace it",
        reason="area_not_empty",
    )


def _check_still_empty(store: ObjectStore, key: str, area: str, resources: Resources) -> None:
    """Conflict if the area holds objects or another push is writing to it; checked
    before the body is read, and again right before the bundle becomes visible (a
    per-file push that began meanwhile would leave its objects beside the bundle)."""
    mine = bundle_object(area)
    others = {n for n in resources.claims.hidden(key) if n.startswith(area) and n != mine}
    others.update(o.name for o in store.list_objects(key, area))  # ours is not written yet
    if others:
        raise _occupied(key, area, sorted(others))


def _out_entries(
    area: str,
    entries: Iterable[tuple[PushEntry, Iterable[bytes] | None]],
    tally: _Tally,
    resources: Resources,
) -> Iterator[OutEntry]:
    """The pushed entries as tar entries, lazily: one entry's bytes flow before the next."""
    for entry, chunks in entries:
        if entry.is_dir and not entry.path.strip("/"):
            continue  # the archive's root ("./")
        is_dir = entry.is_dir or chunks is None
        path = _entry_path(
            area, tally.gate.admit(entry.path, is_dir=is_dir, size=entry.size), is_dir=is_dir
        )
        mtime = getattr(entry, "mtime", None) or time.time()
        if is_dir or chunks is None:
            tally.dirs += 1
            yield OutEntry(path=path, size=0, mtime=mtime, chunks=None, mode=0o755)
            continue
        tally.files += 1
        chunks = tally.gate.counted(path, chunks)
        if entry.size is not None:
            yield OutEntry(
                path=path, size=entry.size, mtime=mtime, chunks=partial(tally.counted, chunks)
            )
            continue
        body = spool(
            chunks, size_hint=None, small=0, budget=resources.budget, account=tally.account
        )
        try:
            yield OutEntry(path=path, size=body.size, mtime=mtime, chunks=partial(_read_back, body))
        finally:
            body.close()


def _entry_path(area: str, path: str, *, is_dir: bool) -> str:
    """The entry's (admitted) path inside the bundle, checked as its per-file object name
    would be."""
    if path == BUNDLE_BASENAME and not is_dir:
        raise UnsafeArchive(
            f"{path!r} is the name reserved for an area's bundle", reason="reserved_name"
        )
    validate_object_name(area + path + ("/" if is_dir else ""))
    return path


def _read_back(body: Spooled) -> Iterator[bytes]:
    while data := body.body.read(READ_CHUNK):
        yield data


def _store_stream(
    store: ObjectStore,
    key: str,
    name: str,
    stream: Iterable[bytes],
    *,
    resources: Resources,
    ticket: PushTicket,
    metadata: Callable[[], Mapping[str, str]],
) -> None:
    """The tar bytes as one object, or as segments and a manifest when longer than one
    segment; either way the object itself is written last."""
    reader = ChunkReader(stream)
    first = next_segment(reader, resources, _ignore)
    if reader.at_eof():
        try:
            store.put_object(
                key,
                name,
                first.body,
                first.size,
                content_type=TAR_CONTENT_TYPE,
                metadata=metadata(),
            )
        finally:
            first.close()
        return
    put_large(
        store,
        key,
        name,
        first,
        reader,
        resources=resources,
        account=_ignore,
        wrote=_ignore_name,
        push_id=ticket.push_id,
        content_type=TAR_CONTENT_TYPE,
        metadata=metadata,
    )


def _ignore(_: int) -> None:
    """The tar's own bytes are not counted: its entries' bytes already were."""


def _ignore_name(_: str) -> None:
    """Nothing to roll back once the object exists: it is written last."""


def _segments_of(store: ObjectStore, key: str, name: str) -> list[SegmentRef]:
    """The segments of the area's current bundle (if large), to delete once replaced."""
    try:
        if not store.head_object(key, name).large:
            return []
        with store.open_object(key, name) as reader:  # closed unread: no byte is drained
            return list(reader.segments or ())
    except NotFound:
        return []


def _unpoint(store: ObjectStore, key: str, area: str, replaced: list[str]) -> None:
    """If the area was a generation (radswift.generation), delete its pointer before the
    rest: from then on readers see the bundle, and never a generation losing objects."""
    pointer = pointer_object(area)
    if pointer in replaced:
        replaced.remove(pointer)
        with suppress(NotFound):
            store.delete_object(key, pointer)


def _delete_old(
    store: ObjectStore, key: str, names: list[str], segments: list[SegmentRef], resources: Resources
) -> None:
    """After the new bundle is stored: the old per-file objects, the old bundle's segments
    (failures are logged by the count, never raised: the push has succeeded)."""
    delete_leftovers(store, key, names, resources.put_pool)
    for container in sorted({ref.container for ref in segments}):
        delete_leftovers(
            store,
            container,
            [r.name for r in segments if r.container == container],
            resources.put_pool,
        )
    if names or segments:
        log.info(
            "bundle push to %r replaced %d objects and %d segments", key, len(names), len(segments)
        )
