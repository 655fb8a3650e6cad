"""The file IO operations pfioh offers, free of HTTP: push a stream of entries into a
key's area, stream an area out as an archive, list and delete keys.

Storage model: container = key; every pushed file is its own object under `input/`
(or `output/`); empty directories are zero-byte `dir/` marker objects with content type
`application/directory`, as the transfer engine writes them. Or, per push, the bundle
layout: the area as one tar object (push_bundle, pull_bundle; see radswift.bundle).
"""

from radswift.services.ioh.core.claims import PushClaims, PushTicket
from radswift.services.ioh.core.keys import delete_key, list_key
from radswift.services.ioh.core.pull import open_area
from radswift.services.ioh.core.push import PushEntry, PushResult, push_entries
from radswift.services.ioh.core.push_bundle import push_bundle
from radswift.services.ioh.core.resources import MemoryBudget, Resources

__all__ = [
    "MemoryBudget",
    "PushClaims",
    "PushEntry",
    "PushResult",
    "PushTicket",
    "Resources",
    "delete_key",
    "list_key",
    "open_area",
    "push_bundle",
    "push_entries",
]
