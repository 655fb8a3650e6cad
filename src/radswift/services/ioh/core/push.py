"""Pushing a stream of entries (from an archive or a multipart form) into a key's area.

Each file becomes its own object `<area>/<path>`; an empty directory a `<area>/<path>/`
marker (written as `radswift cp` writes them). The puts go through the transfer
engine's put pipeline (radswift.transfer.pipeline): up to the transfer options' `workers`
objects of a push are in flight in the shared put pool while the next entries are read,
each entry buffered first (see spool.py), so a push runs as fast as the store takes
objects in parallel and its memory stays bounded.

All or nothing: names are claimed before they are written (see claims.py); a name that
already exists in the area is a Conflict (a push adds, it never overwrites); on any
failure (a limit, a bad entry, a store error, the client going away) the push deletes
exactly the objects it wrote, and the container too if the push created it, so the key
is as it was.

`replace` (the legacy protocol's semantics: a second push of a key replaces its input):
into an area that holds anything, the new tree is written under a fresh generation
prefix, never over the old objects; only once it is all stored does one pointer object
switch readers to it, and the old tree is deleted afterwards (replace.py, and
radswift.generation for the contract). Readers, in this process or any other, see the
old tree or the new one, never a mix; a refused or failed push leaves the key as it was
(its generation is deleted like any rolled-back push). A push into an empty area, or
one that adds (no replace), writes where the area's current tree is: plain objects,
or the current generation.

The bundle layout (one tar object per area) is push_bundle.py; this module refuses to
add per-file objects beside a bundle (see _refuse_beside_bundle).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from radswift.archive.gate import EntryGate
from radswift.archive.limits import ArchiveLimits
from radswift.archive.paths import PathRegistry
from radswift.bundle import Layout, bundle_object, would_mix
from radswift.errors import Conflict, InvalidInput, NotFound, RadswiftError, UnsafeArchive
from radswift.generation import AreaView, is_reserved, list_view, new_generation, resolve
from radswift.names import (
    INPUT_PREFIX,
    OUTPUT_PREFIX,
    segments_container,
    validate_key,
    validate_object_name,
)
from radswift.services.ioh.core.claims import PushTicket
from radswift.services.ioh.core.keys import delete_objects
from radswift.services.ioh.core.large import next_segment, put_large
from radswift.services.ioh.core.replace import before_writing, switch_generation
from radswift.services.ioh.core.resources import Resources
from radswift.services.ioh.core.spool import ChunkReader, Spooled, spool
from radswift.store.base import ObjectStore
from radswift.transfer.pipeline import PutPipeline, Slot
from radswift.transfer.upload import put_marker

log = logging.getLogger("radswift.services.ioh")
AREAS = (INPUT_PREFIX, OUTPUT_PREFIX)


class PushEntry(Protocol):
    """What push needs of an entry (radswift.archive.ArchiveEntry fits)."""

    @property
    def path(self) -> str: ...

    @property
    def is_dir(self) -> bool: ...

    @property
    def size(self) -> int | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PushResult:
    key: str
    area: str
    files: int
    directories: int
    bytes: int


@dataclass(slots=True)
class PushState:
    """Book-keeping of one running push, shared with its put workers (module-internal)."""

    store: ObjectStore
    key: str
    ticket: PushTicket
    gate: EntryGate
    on_bytes: Callable[[int], None]
    existing: frozenset[str]
    view: AreaView
    """Where the entries go: the area's current tree, or (replace) a new generation."""
    old: frozenset[str] = frozenset()
    """Replace: every object of the area before the push, deleted once switched."""
    stored_tree: PathRegistry | None = None
    """Not a replace: the paths the area holds, so a push cannot add `a/b` under a file `a`."""
    files: int = 0
    dirs: int = 0
    total: int = 0
    written: set[str] = field(default_factory=set)
    dir_names: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def account(self, nbytes: int) -> None:
        """Bytes taken in (the limits are the gate's: its `counted` wraps every entry)."""
        self.total += nbytes

    def wrote(self, name: str) -> None:
        with self.lock:
            self.written.add(name)


def push_entries(
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
    """Store every entry under `key`/`area`, all or nothing (see the module doc)."""
    validate_key(key)
    if area not in AREAS:
        raise InvalidInput(f"the area must be one of {', '.join(AREAS)}")
    ticket = resources.claims.begin(key, exclusive=replace)
    created = False
    try:
        before_writing(resources, key)
        created = not store.container_exists(key)
        store.ensure_container(key)
        state = _start(store, key, area, ticket, limits, replace)
        state.on_bytes = on_bytes or state.on_bytes
        pipeline = PutPipeline(resources.put_pool, resources.tuning.transfer.workers)
        try:
            _run(state, pipeline, area, entries, resources)
        except BaseException:
            _roll_back(state, pipeline, resources)
            raise
        return PushResult(
            key=key, area=area, files=state.files, directories=state.dirs, bytes=state.total
        )
    except BaseException:
        if created:
            resources.claims.if_alone(ticket, lambda: drop_if_empty(store, key))
        raise
    finally:
        resources.claims.end(ticket)


def _start(
    store: ObjectStore,
    key: str,
    area: str,
    ticket: PushTicket,
    limits: ArchiveLimits,
    replace: bool,
) -> PushState:
    """Where this push writes: a replace of an area holding anything, a new generation;
    otherwise the area's current tree (and names already there are a Conflict)."""
    state = PushState(
        store=store,
        key=key,
        ticket=ticket,
        gate=EntryGate(limits),
        on_bytes=lambda n: None,
        existing=frozenset(),
        view=AreaView(area=area, prefix=area),
    )
    if replace:
        everything = frozenset(o.name for o in store.list_objects(key, area))
        if everything:
            state.view = AreaView(area=area, prefix=new_generation(area))
            state.old = everything
        return state
    state.view = resolve(store, key, area)
    state.existing = frozenset(o.name for o in list_view(store, key, state.view))
    if not state.view.is_generation:
        _refuse_beside_bundle(key, area, state.existing, replace)
    state.stored_tree = _stored_tree(state.view.prefix, state.existing)
    return state


def _refuse_beside_bundle(key: str, area: str, existing: frozenset[str], replace: bool) -> None:
    """Layouts never mix (radswift.bundle): per-file objects are not added beside a
    bundle; a replacing push deletes the bundle once its own tree is stored (it is one
    of the `existing` names the replace phase removes). A running bundle push holds the
    key exclusively, so this push could not even begin beside it (claims.begin)."""
    if not replace and would_mix(existing, area, Layout.OBJECTS):
        raise Conflict(
            f"the area {area!r} of the key {key!r} holds a bundle: push with "
            "replace=true to replace it",
            reason="area_not_empty",
        )


def _run(
    state: PushState,
    pipeline: PutPipeline,
    area: str,
    entries: Iterable[tuple[PushEntry, Iterable[bytes] | None]],
    resources: Resources,
) -> None:
    try:
        for entry, chunks in entries:
            pipeline.check()
            if entry.is_dir and not entry.path.strip("/"):
                continue  # the archive's root ("./")
            is_dir = entry.is_dir or chunks is None
            path = state.gate.admit(entry.path, is_dir=is_dir, size=entry.size)
            name = _object_name(state.view, path, is_dir=is_dir)
            if name not in state.existing:
                _refuse_under_stored(state.stored_tree, state.key, area, path, is_dir=is_dir)
            if is_dir or chunks is None:
                state.dir_names.add(name)
                continue
            chunks = state.gate.counted(path, chunks)
            if name in state.existing:
                raise Conflict(
                    f"{state.view.logical(name)!r} already exists in the key {state.key!r}",
                    reason="exists",
                )
            resources.claims.claim(state.ticket, name)
            with pipeline.slot() as slot:
                _submit(state, slot, name, entry, chunks, resources)
        for name in _empty_dirs(state):
            if name in state.existing:
                continue
            resources.claims.claim(state.ticket, name)
            with pipeline.slot() as slot:
                state.dirs += 1
                slot.run(partial(_put_marker, state, name))
    finally:
        pipeline.settle()
    pipeline.check()
    if state.old:
        switch_generation(
            state.store,
            state.ticket,
            state.view,
            old=state.old,
            written=len(state.written),
            resources=resources,
        )


def _empty_dirs(state: PushState) -> list[str]:
    """Directory entries with nothing under them: only these need a marker object."""
    parents: set[str] = set()
    for name in state.ticket.names:
        parts = name.rstrip("/").split("/")
        parents.update("/".join(parts[:i]) + "/" for i in range(1, len(parts)))
    return sorted(d for d in state.dir_names if d not in parents)


def _submit(
    state: PushState,
    slot: Slot,
    name: str,
    entry: PushEntry,
    chunks: Iterable[bytes],
    resources: Resources,
) -> None:
    """Buffer one file entry and hand its put to the pool (or push it as segments, in
    this thread: put_large hands each segment to the pool itself)."""
    tuning = resources.tuning
    state.files += 1
    if entry.size is not None and entry.size <= tuning.transfer.segment_size:
        body = spool(
            chunks,
            size_hint=entry.size,
            small=tuning.small_entry,
            budget=resources.budget,
            account=state.account,
        )
        slot.run(partial(_put_spooled, state, name, body), then=body.close)
        return
    reader = ChunkReader(chunks)
    first = next_segment(reader, resources, state.account)
    if reader.at_eof():
        slot.run(partial(_put_spooled, state, name, first), then=first.close)
        return
    put_large(
        state.store,
        state.key,
        name,
        first,
        reader,
        resources=resources,
        account=state.account,
        wrote=state.wrote,
        push_id=state.ticket.push_id,
    )


def _put_spooled(state: PushState, name: str, body: Spooled) -> None:
    state.store.put_object(state.key, name, body.body, body.size)
    state.wrote(name)
    state.on_bytes(body.size)


def _put_marker(state: PushState, name: str) -> None:
    put_marker(state.store, state.key, name)
    state.wrote(name)


def _stored_tree(area: str, existing: Iterable[str]) -> PathRegistry:
    """The paths already stored in the area, for _refuse_under_stored (names that clash
    among themselves, written by another client, are left out: they are not ours)."""
    tree = PathRegistry()
    for name in existing:
        rel = name[len(area) :]
        try:
            tree.add(rel.rstrip("/"), is_dir=rel.endswith("/"))
        except UnsafeArchive:
            continue
    return tree


def _refuse_under_stored(
    tree: PathRegistry | None, key: str, area: str, path: str, *, is_dir: bool
) -> None:
    """Conflict if `path` would be a file where a directory is stored, or lie under a
    stored file: the area would then hold a tree no reader can unpack (`a` and `a/b`)."""
    if tree is None:
        return
    try:
        tree.add(path, is_dir=is_dir)
    except UnsafeArchive as err:
        raise Conflict(
            f"{area}{path!r} clashes with what the key {key!r} holds: {err.message}",
            reason="exists",
        ) from None


def _object_name(view: AreaView, path: str, *, is_dir: bool) -> str:
    """The stored name of an (admitted) entry path: in the area, or in its generation."""
    if is_dir:
        path += "/"
    if view.area + path == bundle_object(view.area) or is_reserved(path):
        raise UnsafeArchive(
            f"{path!r} is a name radswift reserves in an area", reason="reserved_name"
        )
    return validate_object_name(view.prefix + path)


def _roll_back(state: PushState, pipeline: PutPipeline, resources: Resources) -> None:
    """Delete exactly what this push wrote (after its in-flight puts have settled)."""
    pipeline.abort()
    try:
        delete_objects(state.store, state.key, sorted(state.written), resources.put_pool)
    except RadswiftError as err:  # the push's own error is the one to report
        log.error("rolling back a push to %r failed: %s", state.key, err.message)
        return
    log.info("push to %r rolled back (%d objects removed)", state.key, len(state.written))


def drop_if_empty(store: ObjectStore, key: str) -> None:
    """Remove the containers a failed push created (left alone if anything is in them)."""
    for container in (key, segments_container(key)):
        try:
            store.delete_container(container)
        except (NotFound, Conflict):
            pass
        except RadswiftError as err:
            log.error("cannot remove the container %r of a failed push: %s", container, err.message)
