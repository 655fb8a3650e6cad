"""Which object names unfinished pushes are writing, so readers can hide them.

This is how a push stays invisible until it is complete without staging copies (Swift
has no rename, and a server-side copy doubles the work): a push writes straight under
the key's area, but first claims each name here; pfioh's readers (list, pull, single
file reads) leave claimed names out, and a failed push deletes exactly the names it
wrote. Two pushes never claim the same name, so concurrent pushes to one key cannot
overwrite each other. The claims live in this process: another Swift client reading the
container directly during a push does see the objects already written.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
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
        self._active: dict[str, set[str]] = {}

    def begin(self, key: str, *, exclusive: bool = False) -> PushTicket:
        """Start a push. `exclusive` (a replacing push) refuses to run beside another."""
        with self._lock:
            running = self._active.setdefault(key, set())
            if exclusive and running:
                raise Conflict(f"another push to the key {key!r} is running", reason="key_busy")
            ticket = PushTicket(key=key, push_id=uuid.uuid4().hex)
            running.add(ticket.push_id)
            return ticket

    def claim(self, ticket: PushTicket, name: str) -> None:
        """Reserve `name` for this push; Conflict if another running push holds it."""
        with self._lock:
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
            for name in ticket.names:
                if owners.get(name) == ticket.push_id:
                    del owners[name]
            running = self._active.get(ticket.key, set())
            running.discard(ticket.push_id)
            if not running:
                self._active.pop(ticket.key, None)
                self._owners.pop(ticket.key, None)

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
        """Names of `key` that unfinished pushes are writing."""
        with self._lock:
            return frozenset(self._owners.get(key, {}))

    def busy(self, key: str) -> bool:
        with self._lock:
            return bool(self._active.get(key))
