"""The final phase of a replacing push (see push.py): switch to the new generation, then
delete the old tree.

Runs only after every entry of the new tree is stored under its generation prefix
(radswift.generation). The switch is one PUT of the area's pointer: before it, every
reader sees the old tree; after it, the new one. Nothing after the switch may undo the
push (the new tree is live): failing to delete old objects is logged, never raised.
Old objects are deleted only once the reads of this process that began before the
switch have ended (core/leases.py, `retire`), so a pull in progress finishes with the
old tree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from radswift.errors import RadswiftError
from radswift.generation import AreaView, pointer_object, switch_to
from radswift.services.ioh.core.claims import PushTicket
from radswift.services.ioh.core.keys import delete_leftovers
from radswift.services.ioh.core.resources import Resources
from radswift.store.base import ObjectStore

log = logging.getLogger("radswift.services.ioh")
QUICK_WAIT_SECONDS = 2.0
"""How long a replace itself waits for earlier reads before leaving the deletion of
the old tree to the cleanup pool (see retire)."""


def switch_generation(
    store: ObjectStore,
    ticket: PushTicket,
    view: AreaView,
    *,
    old: frozenset[str],
    written: int,
    resources: Resources,
) -> None:
    """Point the area at the push's generation `view` (it stored `written` objects
    there), then remove `old`, what it replaced."""
    claims = resources.claims
    key, area, prefix = ticket.key, view.area, view.prefix
    claims.hide(ticket, (), show=set(ticket.names))  # shown once switched
    switch_to(store, key, area, prefix, written)
    claims.switching(key, area, prefix)  # before any deletion
    gone = sorted(old - {pointer_object(area)})
    try:
        claims.hide(ticket, gone)
    except RadswiftError as err:  # the push has succeeded: the new tree is live
        log.error("after replacing %r of %r: %s", area, key, err.message)

    def delete_old() -> None:
        try:
            delete_leftovers(store, key, gone, resources.put_pool)
        finally:
            claims.switched(key, area, prefix)

    retire(resources, key, area, delete_old)
    log.info(
        "push to %r switched %s to %s (%d objects) and removed %d old ones",
        key,
        area,
        prefix,
        written,
        len(gone),
    )


def retire(resources: Resources, key: str, area: str, delete: Callable[[], object]) -> None:
    """Run `delete` (it removes the tree a replace switched away from) once the reads
    of the area that began before the switch have ended: here if they end within
    QUICK_WAIT_SECONDS, else in the cleanup pool, after at most the leases' grace. So
    a slow reader neither breaks nor delays the push; it only keeps the old tree
    stored a while (invisible: readers resolve the new one)."""
    leases = resources.leases
    before = leases.switch(key, area)
    if leases.wait(key, area, before, QUICK_WAIT_SECONDS):
        _quietly(delete, key)
        return
    run = resources.pending.add(key, lambda: _quietly(delete, key))  # or the next writer

    def later() -> None:
        if not leases.wait(key, area, before, leases.grace):
            log.warning(
                "reads of %r %s began before a replace and still run: deleting the old tree now",
                key,
                area,
            )
        run()

    resources.cleanup_pool.submit(later)


def before_writing(resources: Resources, key: str) -> None:
    """Every writer of `key` calls this once it holds its claim: deletions of replaced
    trees still waiting for slow readers run now, so none can remove what it writes."""
    resources.pending.flush(key)


def _quietly(delete: Callable[[], object], key: str) -> None:
    try:
        delete()
    except RadswiftError as err:
        log.error("removing a replaced tree of %r failed: %s", key, err.message)
