"""Large objects: segment names as the swift CLI makes them, and cleaning up old segments.

A file larger than the segment size becomes segments in `<container>_segments`, named
`<object>/slo/<mtime>/<size>/<segment size>/<index:08d>`, plus a manifest (Swift SLO)
under the object's own name. Any Swift client can read what radswift wrote and the
other way round.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from radswift.errors import NotFound
from radswift.names import segments_container
from radswift.store.base import ObjectStore


def segments_container_of(container: str) -> str:
    """`<container>_segments`, as radswift.names and the swift CLI name it."""
    return segments_container(container)


def segment_name(name: str, mtime: str, size: int, segment_size: int, index: int) -> str:
    return f"{name}/slo/{mtime}/{size}/{segment_size}/{index:08d}"


def split(size: int, segment_size: int) -> Iterator[tuple[int, int]]:
    """(offset, length) of each segment of a file of `size` bytes."""
    for offset in range(0, size, segment_size):
        yield offset, min(segment_size, size - offset)


def stale_segments(store: ObjectStore, container: str, name: str, keep: set[str]) -> list[str]:
    """Names of the segments radswift or the swift CLI once wrote for `name`, minus `keep`."""
    prefix = name + "/slo/"
    try:
        return [
            info.name
            for info in store.list_objects(segments_container_of(container), prefix)
            if info.name[len(prefix) :].count("/") == 3 and info.name not in keep
        ]
    except NotFound:
        return []


def delete_quietly(store: ObjectStore, container: str, names: list[str]) -> None:
    """Delete what may already be gone (another client may be cleaning up too)."""
    for seg in names:
        with contextlib.suppress(NotFound):
            store.delete_object(container, seg)
