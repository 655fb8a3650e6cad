"""Listing and deleting a key (its container), as pfioh's readers see it.

A listing shows each area's current tree (radswift.generation): an area replaced by a
generation shows the objects of its current generation under their plain names, never
the pointer, an older generation or leftovers of the tree it replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Executor

from radswift.bundle import BUNDLE_BASENAME, AreaState, area_state
from radswift.errors import Conflict, RadswiftError
from radswift.generation import AreaView, is_reserved, list_view, logical_infos, resolve
from radswift.names import validate_key, validate_prefix
from radswift.services.ioh.core.claims import PushClaims
from radswift.services.ioh.core.leases import PendingDeletes
from radswift.store.base import ObjectInfo, ObjectStore
from radswift.transfer.remove import delete_many, delete_whole_key

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


def area_objects(
    store: ObjectStore, key: str, area: str, claims: PushClaims
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


def _current(store: ObjectStore, key: str, prefix: str, claims: PushClaims) -> list[ObjectInfo]:
    """The objects under `prefix` of each area's current tree, under the names readers
    see: a prefix inside one area resolves that area; a wider one (the whole key) lists
    plainly and resolves the areas where it meets generations."""
    head, slash, _ = prefix.partition("/")
    if slash:
        view = resolve_here(store, key, head + "/", claims)
        return list(logical_infos(view, list_view(store, key, view, prefix)))
    infos = list(store.list_objects(key, prefix))
    areas = sorted(
        {
            o.name.split("/", 1)[0] + "/"
            for o in infos
            if "/" in o.name and is_reserved(o.name.split("/", 1)[1])
        }
    )
    out = [o for o in infos if not any(o.name.startswith(a) for a in areas)]
    for area in areas:
        view = resolve_here(store, key, area, claims)
        out.extend(logical_infos(view, list_view(store, key, view)))
    return sorted(out, key=lambda o: o.name.encode("utf-8", "surrogatepass"))


def _looks_mixed(infos: list[ObjectInfo]) -> bool:
    """Does an area in the listing hold a bundle and other objects?"""
    names = [o.name for o in infos]
    areas = {
        n.split("/", 1)[0] + "/"
        for n in names
        if n.count("/") == 1 and n.endswith("/" + BUNDLE_BASENAME)
    }
    return any(area_state(names, area) is AreaState.MIXED for area in areas)


def delete_key(
    store: ObjectStore,
    key: str,
    claims: PushClaims,
    pool: Executor | None = None,
    *,
    pending: PendingDeletes | None = None,
) -> int:
    """Delete every object of the key (in `pool`, when given), then its container and its
    segments container (the transfer engine's delete_whole_key).

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
        deletion = delete_whole_key(store, key, pool=pool)
        deletion.raise_first()
        return deletion.existed
    finally:
        claims.end(ticket)


def delete_objects(
    store: ObjectStore, container: str, names: Iterable[str], pool: Executor | None = None
) -> list[bool]:
    """Delete each name (in parallel in `pool`); True where it existed, False if absent;
    the first failure is raised."""
    wanted = list(names)
    deletion = delete_many(store, container, wanted, pool=pool)
    deletion.raise_first()
    missing = set(deletion.missing)
    return [name not in missing for name in wanted]


def delete_leftovers(
    store: ObjectStore, container: str, names: Iterable[str], pool: Executor | None = None
) -> int:
    """Delete old objects whose replacement is already stored and visible: a failure is
    logged (error level, with the count), never raised, since the push itself succeeded
    and a 5xx would tell the client otherwise. Returns how many could not be deleted."""
    wanted = list(names)
    try:
        deletion = delete_many(store, container, wanted, pool=pool)
    except RadswiftError as err:  # fatal (the store is gone); the push still succeeded
        log.error(
            "%d replaced objects of %r could not be deleted (%s); they stay beside "
            "the new content until deleted",
            len(wanted),
            container,
            err.message,
        )
        return len(wanted)
    if deletion.failures:
        log.error(
            "%d of %d replaced objects of %r could not be deleted (first: %s); "
            "they stay beside the new content until deleted",
            len(deletion.failures),
            deletion.requested,
            container,
            deletion.failures[0][1],
        )
    return len(deletion.failures)
