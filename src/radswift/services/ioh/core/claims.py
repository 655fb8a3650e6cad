"""Which object names unfinished pushes are writing, so readers can hide them.

This is how a push stays invisible until it is complete without staging copies (Swift
has no rename, and a server-side copy doubles the work): a push writes straight under
the key's area, but first claims each name here; pfioh's readers (list, pull, single
file reads) leave claimed names out, and a failed push deletes exactly the names it
wrote. Two pushes never claim the same name, so concurrent pushes to one key cannot
overwrite each other. The claims live in this process: another Swift client reading the
container directly during a push does see the objects already written.

Two refinements for pushes that replace what is there:
- a name can be claimed without hiding it (`claim(..., hide=False)`): a bundle is
  written in one PUT (or its manifest last), so the old bundle under that name stays
  readable until the new one replaces it;
- once the new content is stored, `hide` makes the old names (about to be deleted)
  invisible and, in the same step, `show`s the new ones: readers switch from the old
  tree to the new one at once, never seeing a shrinking or mixed tree.
An exclusive push (every replace, every bundle push) runs alone on its key: it starts
only when nothing else runs there, and nothing else starts until it ends.

And one for replace generations (radswift.generation): from the switch of an area's
pointer until the tree it replaced is deleted, readers in this process take the new
generation as the area's tree even if Swift answers the pointer's GET with a stale 404
(it can, under load): they never list the old tree while it is being deleted.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from radswift.errors import Conflict


@dataclass(slots=True)
class PushTicket:
    """One running push: its id and the names it claimed."""

    key: str
    push_id: str
    names: set[str] = field(default_factory=set)


class PushClaims:
    """Thread-safe registry of the names claimed by running pushes, per key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[str, dict[str, str]] = {}
        self._shown: dict[str, set[str]] = {}
        self._active: dict[str, set[str]] = {}
        self._exclusive: dict[str, str] = {}
        self._switching: dict[tuple[str, str], str] = {}

    def begin(self, key: str, *, exclusive: bool = False) -> PushTicket:
        """Start a push. An `exclusive` one refuses to run beside any other, and no other
        starts beside it (Conflict key_busy)."""
        with self._lock:
            running = self._active.get(key, set())
            if running and (exclusive or key in self._exclusive):
                raise Conflict(f"another push to the key {key!r} is running", reason="key_busy")
            ticket = PushTicket(key=key, push_id=uuid.uuid4().hex)
            self._active.setdefault(key, set()).add(ticket.push_id)
            if exclusive:
                self._exclusive[key] = ticket.push_id
            return ticket

    def claim(self, ticket: PushTicket, name: str, *, hide: bool = True) -> None:
        """Reserve `name` for this push; Conflict if another running push holds it.
        `hide=False`: readers keep seeing what is stored under the name meanwhile."""
        with self._lock:
            self._take(ticket, name)
            shown = self._shown.setdefault(ticket.key, set())
            if hide:
                shown.discard(name)
            else:
                shown.add(name)

    def hide(self, ticket: PushTicket, names: Iterable[str], *, show: Iterable[str] = ()) -> None:
        """In one step: hide `names` from readers (old objects this push is about to
        delete) and show `show` (names this push claimed and has finished writing)."""
        with self._lock:
            owners = self._owners.setdefault(ticket.key, {})
            shown = self._shown.setdefault(ticket.key, set())
            for name in show:
                if owners.get(name) == ticket.push_id:
                    shown.add(name)
            for name in names:
                self._take(ticket, name)
                shown.discard(name)

    def _take(self, ticket: PushTicket, name: str) -> None:
        owners = self._owners.setdefault(ticket.key, {})
        owner = owners.get(name)
        if owner is not None and owner != ticket.push_id:
            raise Conflict(f"{name!r} is being written by another push", reason="name_busy")
        owners[name] = ticket.push_id
        ticket.names.add(name)

    def end(self, ticket: PushTicket) -> None:
        """Release the push's names (they become visible, or are already deleted)."""
        with self._lock:
            owners = self._owners.get(ticket.key, {})
            shown = self._shown.get(ticket.key, set())
            for name in ticket.names:
                if owners.get(name) == ticket.push_id:
                    del owners[name]
                    shown.discard(name)
            if self._exclusive.get(ticket.key) == ticket.push_id:
                del self._exclusive[ticket.key]
            running = self._active.get(ticket.key, set())
            running.discard(ticket.push_id)
            if not running:
                for table in (self._active, self._owners, self._shown):
                    table.pop(ticket.key, None)

    def if_alone(self, ticket: PushTicket, action: Callable[[], None]) -> bool:
        """Run `action` if this push is the key's only one, while no other can start
        (used to remove a container a failed push created without pulling it from under
        a concurrent push). Returns whether it ran."""
        with self._lock:
            if self._active.get(ticket.key, set()) != {ticket.push_id}:
                return False
            action()
            return True

    def hidden(self, key: str) -> frozenset[str]:
        """Names of `key` that readers must not see now: being written by unfinished
        pushes, or about to be deleted by a replacing push."""
        with self._lock:
            return frozenset(self._owners.get(key, {})).difference(self._shown.get(key, ()))

    def switching(self, key: str, area: str, prefix: str) -> None:
        """The area now reads from the generation `prefix`, its old tree being deleted."""
        with self._lock:
            self._switching[(key, area)] = prefix

    def switched(self, key: str, area: str, prefix: str) -> None:
        """The tree that the generation `prefix` replaced is deleted."""
        with self._lock:
            if self._switching.get((key, area)) == prefix:
                del self._switching[(key, area)]

    def switching_to(self, key: str, area: str) -> str | None:
        """The generation the area switched to while its old tree is being deleted."""
        with self._lock:
            return self._switching.get((key, area))

    def busy(self, key: str) -> bool:
        with self._lock:
            return bool(self._active.get(key))
