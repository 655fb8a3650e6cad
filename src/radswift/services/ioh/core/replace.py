"""The final phase of a replacing push (see push.py): overwrite, then drop what is gone.

Runs only after the whole archive was read without error, so a refused archive never
reaches it. The deferred entries wait on disk (never in memory).
"""

from __future__ import annotations

import logging
from collections.abc import Set
from typing import TYPE_CHECKING

from radswift.services.ioh.core.keys import delete_leftovers
from radswift.services.ioh.core.large import put_large
from radswift.services.ioh.core.resources import Resources
from radswift.services.ioh.core.spool import ChunkReader, Spooled, spool

if TYPE_CHECKING:
    from radswift.services.ioh.core.push import PushState

log = logging.getLogger("radswift.services.ioh")
READ_CHUNK = 1024 * 1024


def replace_existing(state: PushState, resources: Resources, keep: Set[str]) -> None:
    """Write every deferred entry over its old object, then delete the old objects that
    are not in `keep` (the names of the new tree): hidden from readers first, while the
    new names are shown (one step), and a failure to delete is logged, not raised (the
    new tree is complete and visible)."""
    segment = resources.tuning.segment_size
    small = {n: b for n, b in state.deferred.items() if b.size <= segment}
    futures = [
        resources.put_pool.submit(_overwrite, state, name, body, resources)
        for name, body in small.items()
    ]
    for name, body in state.deferred.items():
        if name not in small:  # here, not in the pool: put_large waits on pool tasks itself
            _overwrite(state, name, body, resources)
    for future in futures:
        future.result()
    gone = sorted(state.existing - keep)
    resources.claims.hide(state.ticket, gone, show=set(state.ticket.names))
    delete_leftovers(state.store, state.key, gone, resources.put_pool)
    log.info(
        "push to %r replaced %d objects and removed %d",
        state.key,
        len(state.deferred),
        len(state.existing - keep),
    )


def _overwrite(state: PushState, name: str, body: Spooled, resources: Resources) -> None:
    segment = resources.tuning.segment_size
    if body.size <= segment:
        state.store.put_object(state.key, name, body.body, body.size)
    else:
        reader = ChunkReader(iter(lambda: body.body.read(READ_CHUNK), b""))
        first = spool(
            reader.take(segment),
            size_hint=None,
            small=0,
            budget=resources.budget,
            account=lambda n: None,
        )
        put_large(
            state.store,
            state.key,
            name,
            first,
            reader,
            resources=resources,
            account=lambda n: None,
            wrote=lambda n: None,
            push_id=state.ticket.push_id,
        )
    state.on_bytes(body.size)
