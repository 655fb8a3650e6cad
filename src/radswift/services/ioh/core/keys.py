"""Listing and deleting a key (its container), as pfioh's readers see it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Executor

from radswift.errors import Conflict, NotFound, RadswiftError
from radswift.names import segments_container, validate_key, validate_prefix
from radswift.services.ioh.core.claims import PushClaims
from radswift.store.base import ObjectInfo, ObjectStore

log = logging.getLogger("radswift.services.ioh")


def list_key(store: ObjectStore, key: str, prefix: str, claims: PushClaims) -> list[ObjectInfo]:
    """The key's objects under `prefix`, without those of unfinished pushes. NotFound if
    the key does not exist."""
    validate_key(key)
    validate_prefix(prefix)
    hidden = claims.hidden(key)
    return [o for o in store.list_objects(key, prefix) if o.name not in hidden]


def delete_key(store: ObjectStore, key: str, claims: PushClaims,
               pool: Executor | None = None) -> int:
    """Delete every object of the key (in `pool`, when given), then its container and its
    segments container.

    Conflict while a push to the key runs; NotFound if the key does not exist. Returns
    the number of objects deleted."""
    validate_key(key)
    if claims.busy(key):
        raise Conflict(f"a push to the key {key!r} is running", reason="key_busy")
    names = [info.name for info in store.list_objects(key)]
    count = sum(delete_objects(store, key, names, pool))
    store.delete_container(key)
    _delete_segments_container(store, segments_container(key))
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
