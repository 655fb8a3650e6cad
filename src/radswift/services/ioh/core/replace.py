"""The final phase of a replacing push (see push.py): switch to the new generation, then
delete the old tree.

Runs only after every entry of the new tree is stored under its generation prefix
(radswift.generation). The switch is one PUT of the area's pointer: before it, every
reader sees the old tree; after it, the new one. Nothing after the switch may undo the
push (the new tree is live): failing to delete old objects is logged, never raised.
Old objects are deleted only once the reads of this process that began before the
switch have ended (core/leases.py), so a pull in progress finishes with the old tree.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from radswift.errors import RadswiftError
from radswift.generation import pointer_object, switch_to
from radswift.services.ioh.core.keys import delete_leftovers
from radswift.services.ioh.core.resources import Resources

if TYPE_CHECKING:
    from radswift.services.ioh.core.push import PushState

log = logging.getLogger("radswift.services.ioh")


def switch_generation(state: PushState, resources: Resources) -> None:
    """Point the area at the push's generation, then remove what it replaced."""
    view = state.view
    claims = resources.claims
    claims.hide(state.ticket, (), show=set(state.ticket.names))  # shown once switched
    switch_to(state.store, state.key, view.area, view.prefix, len(state.written))
    gone = sorted(state.old - {pointer_object(view.area)})
    try:
        claims.hide(state.ticket, gone)
        if not resources.leases.switched(state.key, view.area):
            log.warning("reads of %r began before a replace and still run after %g s: "
                        "deleting the old tree anyway", state.key, resources.leases.grace)
        delete_leftovers(state.store, state.key, gone, resources.put_pool)
    except RadswiftError as err:  # the push has succeeded: the new tree is live
        log.error("after replacing %r of %r, removing the old tree failed: %s", view.area,
                  state.key, err.message)
    log.info("push to %r switched %s to %s (%d objects) and removed %d old ones", state.key,
             view.area, view.prefix, len(state.written), len(gone))
