"""Deleting objects: the one delete-many, a prefix as a directory, a whole key.

`delete_many` is the only loop that deletes a list of names: concurrent, an object
already gone counts as deleted (another client, or a manifest's delete took its
segment), per-object failures collected for the caller to raise or log, fatal ones
(credentials, an unreachable store) raised at once. `delete_whole_key` is the only
deletion of a key: its objects (a manifest's deletion deletes its segments: the
store's duty), the key's container, then whatever `<key>_segments` still holds
(segments of interrupted uploads) and that container. Deleting more than one object
from the command line must be asked for (`recursive`), as `aws s3 rm` requires.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from radswift.errors import InvalidInput, NotFound, RadswiftError, TransferError
from radswift.names import segments_container
from radswift.store.base import ObjectStore
from radswift.transfer.failures import is_fatal, reason_of
from radswift.transfer.pool import run_workers

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 16


@dataclass(slots=True)
class Deletion:
    """What delete_many did: `requested` names, those already `missing`, the `failures`
    (name, reason) and their exceptions (`errors`, in the same order)."""

    requested: int = 0
    missing: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)

    @property
    def deleted(self) -> int:
        """Names that are gone now (those already missing included)."""
        return self.requested - len(self.failures)

    @property
    def existed(self) -> int:
        """Names this deletion removed itself."""
        return self.deleted - len(self.missing)

    def raise_failures(self, failed: str = "deletions failed") -> None:
        """One TransferError ("N of M <failed>") naming every failure, if any."""
        if self.failures:
            raise TransferError(f"{len(self.failures)} of {self.requested} {failed}", self.failures)

    def raise_first(self) -> None:
        """The first failure's own error, if any (a service maps it to its status)."""
        if self.errors:
            raise self.errors[0]


def delete_many(
    store: ObjectStore,
    container: str,
    names: Iterable[str],
    *,
    workers: int = DEFAULT_WORKERS,
    pool: Executor | None = None,
) -> Deletion:
    """Delete `names` concurrently (on `workers` threads, or in `pool`); see the module
    docstring for what counts as done, failed or fatal."""
    wanted = list(names)
    result = Deletion(requested=len(wanted))
    lock = threading.Lock()

    def delete(name: str) -> None:
        try:
            store.delete_object(container, name)
        except NotFound:
            with lock:
                result.missing.append(name)
        except (RadswiftError, OSError) as exc:
            if is_fatal(exc):
                raise
            with lock:
                result.failures.append((name, reason_of(exc)))
                result.errors.append(exc)

    if pool is not None:
        list(pool.map(delete, wanted))
    else:
        run_workers(delete, wanted, workers)
    return result


def delete_all(
    store: ObjectStore,
    container: str,
    names: list[str],
    workers: int,
    *,
    failed: str = "deletions failed",
) -> int:
    """Delete `names` (delete_many); failures raise one TransferError ("N of M <failed>").
    Returns how many are gone."""
    result = delete_many(store, container, names, workers=workers)
    result.raise_failures(failed)
    return result.deleted


def delete_whole_key(
    store: ObjectStore, key: str, *, workers: int = DEFAULT_WORKERS, pool: Executor | None = None
) -> Deletion:
    """Delete every object of `key`, then its container and `<key>_segments` (module
    docstring). NotFound if the key does not exist. If an object could not be deleted,
    the containers stay and the returned Deletion says why (the caller raises); what
    the segments container still holds is swept last, its failures only logged: the
    key itself is gone by then."""
    names = [info.name for info in store.list_objects(key)]
    result = delete_many(store, key, names, workers=workers, pool=pool)
    if result.failures:
        return result
    store.delete_container(key)
    _sweep_segments(store, segments_container(key), workers, pool)
    return result


def _sweep_segments(
    store: ObjectStore, container: str, workers: int, pool: Executor | None
) -> None:
    """Segments left behind (orphans of an interrupted large upload) go too."""
    try:
        leftovers = [info.name for info in store.list_objects(container)]
        delete_many(store, container, leftovers, workers=workers, pool=pool).raise_first()
        store.delete_container(container)
    except NotFound:
        pass
    except RadswiftError as err:
        log.warning("cannot fully remove %r: %s", container, err.message)


def remove_objects(
    store: ObjectStore, key: str, prefix: str, *, recursive: bool, workers: int = DEFAULT_WORKERS
) -> int:
    """Delete `prefix` (an object, or with `recursive` everything under it as a directory),
    or the whole key when `prefix` is empty. Returns how many objects were deleted."""
    if not prefix:
        count = 0 if recursive else len(_targets(store, key, prefix, recursive=True))
        if count > 1:
            raise _needs_recursive(count)
        whole = delete_whole_key(store, key, workers=workers)
        whole.raise_failures()
        return whole.deleted
    targets = _targets(store, key, prefix, recursive=recursive)
    if not targets:
        raise NotFound(f"nothing named {prefix!r} in {key!r}")
    if len(targets) > 1 and not recursive:
        raise _needs_recursive(len(targets))
    return delete_all(store, key, targets, workers)


def _needs_recursive(count: int) -> InvalidInput:
    return InvalidInput(f"{count} objects match; pass --recursive (-r) to delete them all")


def _targets(store: ObjectStore, key: str, prefix: str, *, recursive: bool) -> list[str]:
    if not prefix or prefix.endswith("/"):
        return [i.name for i in store.list_objects(key, prefix)]
    exact: list[str] = []
    with contextlib.suppress(NotFound):
        exact = [store.head_object(key, prefix).name]
    if exact and not recursive:
        return exact
    return exact + [i.name for i in store.list_objects(key, prefix + "/")]
