"""Deleting objects under a prefix, or a whole key with its segments container.

A manifest's deletion deletes its segments (the store's duty); deleting a whole key
also sweeps `<key>_segments` (segments of interrupted uploads included) and then
removes both containers. Deleting more than one object must be asked for
(`recursive`), as `aws s3 rm` requires.
"""

from __future__ import annotations

import contextlib
import threading

from radswift.errors import InvalidInput, NotFound, RadswiftError, TransferError
from radswift.store.base import ObjectStore
from radswift.transfer.failures import is_fatal, reason_of
from radswift.transfer.pool import run_workers
from radswift.transfer.segments import segments_container_of


def remove_objects(
    store: ObjectStore, key: str, prefix: str, *, recursive: bool, workers: int = 16
) -> int:
    """Delete `prefix` (an object, or with `recursive` everything under it as a directory),
    or the whole key when `prefix` is empty. Returns how many objects were deleted."""
    targets = _targets(store, key, prefix, recursive=recursive)
    if not targets and prefix:
        raise NotFound(f"nothing named {prefix!r} in {key!r}")
    if len(targets) > 1 and not recursive:
        raise InvalidInput(
            f"{len(targets)} objects match; pass --recursive (-r) to delete them all"
        )
    deleted = delete_all(store, key, targets, workers)
    if not prefix:
        seg = segments_container_of(key)
        with contextlib.suppress(NotFound):
            leftovers = [i.name for i in store.list_objects(seg)]
            delete_all(store, seg, leftovers, workers)
            store.delete_container(seg)
        store.delete_container(key)
    return deleted


def _targets(store: ObjectStore, key: str, prefix: str, *, recursive: bool) -> list[str]:
    if not prefix or prefix.endswith("/"):
        return [i.name for i in store.list_objects(key, prefix)]
    exact: list[str] = []
    with contextlib.suppress(NotFound):
        exact = [store.head_object(key, prefix).name]
    if exact and not recursive:
        return exact
    return exact + [i.name for i in store.list_objects(key, prefix + "/")]


def delete_all(
    store: ObjectStore,
    container: str,
    names: list[str],
    workers: int,
    *,
    failed: str = "deletions failed",
) -> int:
    """Delete `names` in parallel; an object already gone counts as deleted. Per-object
    failures are collected into one TransferError ("N of M <failed>"); fatal ones
    (credentials, an unreachable store) stop everything at once."""
    failures: list[tuple[str, str]] = []
    lock = threading.Lock()

    def delete(name: str) -> None:
        try:
            store.delete_object(container, name)
        except NotFound:
            pass  # gone already (a manifest's segment, or another client): the goal holds
        except (RadswiftError, OSError) as exc:
            if is_fatal(exc):
                raise
            with lock:
                failures.append((name, reason_of(exc)))

    run_workers(delete, names, workers)
    if failures:
        raise TransferError(f"{len(failures)} of {len(names)} {failed}", failures)
    return len(names)
