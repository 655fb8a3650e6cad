"""Listing and deleting a key (its container), as pfioh's readers see it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Executor

from radswift.bundle import BUNDLE_BASENAME, AreaState, area_state
from radswift.errors import Conflict, RadswiftError
from radswift.names import validate_key, validate_prefix
from radswift.services.ioh.core.claims import PushClaims
from radswift.store.base import ObjectInfo, ObjectStore
from radswift.transfer.remove import delete_many, delete_whole_key

log = logging.getLogger("radswift.services.ioh")


def list_key(store: ObjectStore, key: str, prefix: str, claims: PushClaims) -> list[ObjectInfo]:
    """The key's objects under `prefix`, without those of unfinished pushes. NotFound if
    the key does not exist."""
    validate_key(key)
    validate_prefix(prefix)
    hidden = claims.hidden(key)
    infos = [o for o in store.list_objects(key, prefix) if o.name not in hidden]
    if _looks_mixed(infos):
        # A replacing push may have stored its bundle and hidden the old objects while
        # this listing ran: names hidden now are as much out as those hidden before.
        hidden = hidden | claims.hidden(key)
        infos = [o for o in infos if o.name not in hidden]
    return infos


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
    store: ObjectStore, key: str, claims: PushClaims, pool: Executor | None = None
) -> int:
    """Delete every object of the key (in `pool`, when given), then its container and its
    segments container (the transfer engine's delete_whole_key).

    Conflict while a push to the key runs; NotFound if the key does not exist. Returns
    the number of objects deleted."""
    validate_key(key)
    if claims.busy(key):
        raise Conflict(f"a push to the key {key!r} is running", reason="key_busy")
    deletion = delete_whole_key(store, key, pool=pool)
    deletion.raise_first()
    return deletion.existed


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
