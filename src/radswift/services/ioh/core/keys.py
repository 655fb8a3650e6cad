"""Listing and deleting a key (its container), as pfioh's readers see it.

A listing shows each area's current tree (radswift.generation): an area replaced by a
generation shows the objects of its current generation under their plain names, never
the pointer, an older generation or leftovers of the tree it replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Executor

from radswift.bundle import BUNDLE_BASENAME
from radswift.errors import Conflict, NotFound, RadswiftError
from radswift.generation import AreaView, is_reserved, list_view, logical_infos, resolve
from radswift.names import segments_container, validate_key, validate_prefix
from radswift.services.ioh.core.claims import PushClaims
from radswift.services.ioh.core.leases import PendingDeletes
from radswift.store.base import ObjectInfo, ObjectStore

log = logging.getLogger("radswift.services.ioh")


def list_key(store: ObjectStore, key: str, prefix: str, claims: PushClaims) -> list[ObjectInfo]:
    """The key's objects under `prefix`, without those of unfinished pushes. NotFound if
    the key does not exist."""
    validate_key(key)
    validate_prefix(prefix)
    hidden = claims.hidden(key)
    infos = [o for o in _current(store, key, prefix, claims) if o.name not in hidden]
    if _looks_mixed(infos):
        # A replacing push may have stored its bundle and hidden the old objects while
        # this listing ran: names hidden now are as much out as those hidden before.
        hidden = hidden | claims.hidden(key)
        infos = [o for o in infos if o.name not in hidden]
    return infos


def area_objects(store: ObjectStore, key: str, area: str, claims: PushClaims
                 ) -> tuple[AreaView, list[ObjectInfo]]:
    """Where the area's current tree is, and its objects under their stored names (for
    readers that fetch them), without those of unfinished pushes."""
    view = resolve_here(store, key, area, claims)
    hidden = claims.hidden(key)
    return view, [o for o in list_view(store, key, view) if o.name not in hidden]


def resolve_here(store: ObjectStore, key: str, area: str, claims: PushClaims) -> AreaView:
    """Where the area's tree is, as this process knows it: the pointer (one GET), or
    the generation a replace here switched to while it deletes the old tree (a stale
    404 for the pointer must not send a reader to a tree being deleted)."""
    view = resolve(store, key, area)
    switched = None if view.is_generation else claims.switching_to(key, area)
    return AreaView(area=area, prefix=switched) if switched else view


def _current(store: ObjectStore, key: str, prefix: str, claims: PushClaims
             ) -> list[ObjectInfo]:
    """The objects under `prefix` of each area's current tree, under the names readers
    see: a prefix inside one area resolves that area; a wider one (the whole key) lists
    plainly and resolves the areas where it meets generations."""
    head, slash, _ = prefix.partition("/")
    if slash:
        view = resolve_here(store, key, head + "/", claims)
        return list(logical_infos(view, list_view(store, key, view, prefix)))
    infos = list(store.list_objects(key, prefix))
    areas = sorted({o.name.split("/", 1)[0] + "/" for o in infos
                    if "/" in o.name and is_reserved(o.name.split("/", 1)[1])})
    out = [o for o in infos if not any(o.name.startswith(a) for a in areas)]
    for area in areas:
        view = resolve_here(store, key, area, claims)
        out.extend(logical_infos(view, list_view(store, key, view)))
    return sorted(out, key=lambda o: o.name.encode("utf-8", "surrogatepass"))


def _looks_mixed(infos: list[ObjectInfo]) -> bool:
    """Does an area in the listing hold a bundle and other objects?"""
    areas = {o.name.split("/", 1)[0] for o in infos
             if o.name.count("/") == 1 and o.name.endswith("/" + BUNDLE_BASENAME)}
    return any(o.name.split("/", 1)[0] in areas and not o.name.endswith("/" + BUNDLE_BASENAME)
               for o in infos)


def delete_key(store: ObjectStore, key: str, claims: PushClaims,
               pool: Executor | None = None, *, pending: PendingDeletes | None = None) -> int:
    """Delete every object of the key (in `pool`, when given), then its container and its
    segments container.

    Conflict while a push to the key runs; NotFound if the key does not exist. Returns
    the number of objects deleted. The delete holds the key like an exclusive push, so
    no push can start between the check and the listing and have its objects deleted
    under it (it is refused, key_busy, until the delete ends). `pending`: deletions of
    replaced trees waiting for readers, run first (see core/leases.py)."""
    validate_key(key)
    try:
        ticket = claims.begin(key, exclusive=True)
    except Conflict:
        raise Conflict(f"a push to the key {key!r} is running", reason="key_busy") from None
    try:
        if pending is not None:
            pending.flush(key)
        names = [info.name for info in store.list_objects(key)]
        count = sum(delete_objects(store, key, names, pool))
        store.delete_container(key)
        _delete_segments_container(store, segments_container(key))
    finally:
        claims.end(ticket)
    return count


def _delete_segments_container(store: ObjectStore, container: str) -> None:
    """Segments left behind (orphans of an interrupted large upload) go too."""
    try:
        for info in list(store.list_objects(container)):
            store.delete_object(container, info.name)
        store.delete_container(container)
    except NotFound:
        pass
    except RadswiftError as err:
        log.warning("cannot fully remove %r: %s", container, err.message)


def delete_objects(store: ObjectStore, container: str, names: Iterable[str],
                   pool: Executor | None = None) -> list[bool]:
    """Delete each name (in parallel in `pool`); True where it existed, False if absent."""

    def delete(name: str) -> bool:
        try:
            store.delete_object(container, name)
        except NotFound:
            return False
        return True

    return list(pool.map(delete, names)) if pool is not None else [delete(n) for n in names]


def delete_leftovers(store: ObjectStore, container: str, names: Iterable[str],
                     pool: Executor | None = None) -> int:
    """Delete old objects whose replacement is already stored and visible: a failure is
    logged (error level, with the count), never raised, since the push itself succeeded
    and a 5xx would tell the client otherwise. Returns how many could not be deleted."""
    errors: list[str] = []

    def delete(name: str) -> None:
        try:
            store.delete_object(container, name)
        except NotFound:
            pass
        except RadswiftError as err:
            errors.append(err.message)

    wanted = list(names)
    if pool is not None:
        list(pool.map(delete, wanted))
    else:
        for name in wanted:
            delete(name)
    if errors:
        log.error("%d of %d replaced objects of %r could not be deleted (first: %s); "
                  "they stay beside the new content until deleted", len(errors),
                  len(wanted), container, errors[0])
    return len(errors)
