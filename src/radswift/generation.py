"""Replace generations: how an area (`input/`, `output/`) is replaced all at once.

Why: Swift has no rename and no multi-object transaction, so a push that overwrote an
area's objects in place was visible half-done (a reader got some old files and some
new, an old-only file present, a new-only one missing). Instead a replacing push writes
the new tree under a fresh generation prefix and then switches ONE small pointer object
to it; a single object's PUT is atomic in Swift, so a reader that resolves the pointer
sees the old tree or the new one, never a mix. The old generation (or the old plain
objects, or an old bundle) is deleted only after the switch.

The contract every reader and writer keeps (pfioh's core, and `fetch_area` used by
`radswift cp` and the publisher's get):
- The pointer of an area is the object `<area>.radswift-current`, JSON
  `{"generation": "<hex id>", "objects": N}`; the area's tree is then the objects under
  `<area>.radswift-gen/<id>/`, named relative to that prefix as they would be relative
  to the area. Everything else under the area (older generations, plain objects, a
  bundle) is a leftover being deleted, and readers ignore it.
- Without a pointer the area is plain (one object per file at `<area><path>`, or a
  bundle): what radswift wrote before generations existed stays readable as it was.
  Readers of a plain area ignore `<area>.radswift-gen/`: a first replace is writing
  there and has not switched yet.
- `objects` is how many objects the generation had when the pointer was written.
  Listings are eventually consistent in Swift: a reader that lists fewer under the
  prefix lists again, and fails (503) rather than serve a part (`list_generation`).
- The pointer is written last and deleted first: a writer that replaces a generation
  by a plain tree or a bundle deletes the pointer before the old generation.
- Only a replacing push into an area that holds something starts a generation; a push
  into a new or empty area writes plain objects, readable by any Swift client. Pushes
  that add to an area with a pointer write into its current generation.
- Names under a generation are 31 bytes longer than in a plain area (Swift's 1024-byte
  limit applies to the whole name), and `.radswift-current` / `.radswift-gen/` at the
  top of an area are reserved names a push refuses.
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from radswift.errors import Conflict, NotFound, StorageUnavailable
from radswift.store.base import ObjectInfo, ObjectStore

POINTER_BASENAME = ".radswift-current"
GENERATIONS_DIR = ".radswift-gen/"
POINTER_CONTENT_TYPE = "application/json"
MAX_POINTER_BYTES = 4096
LISTING_ATTEMPTS = 5
_ID = re.compile(r"[0-9a-f]{8,64}")


@dataclass(frozen=True, slots=True)
class AreaView:
    """Where an area's tree is: `prefix` is the area itself (plain) or its current
    generation's prefix; `objects` the count the pointer promises (None if plain)."""

    area: str
    prefix: str
    objects: int | None = None

    @property
    def is_generation(self) -> bool:
        return self.prefix != self.area

    def physical(self, name: str) -> str:
        """The stored name of the area's object `name` (`<area><path>`)."""
        return self.prefix + name[len(self.area) :]

    def logical(self, name: str) -> str:
        """The name readers see for the stored object `name` (under `prefix`)."""
        return self.area + name[len(self.prefix) :]

    def shows(self, name: str) -> bool:
        """Is the stored object `name` part of the area's current tree?"""
        if self.is_generation:
            return name.startswith(self.prefix)
        return name.startswith(self.area) and not is_reserved(name[len(self.area) :])


def pointer_object(area: str) -> str:
    return area + POINTER_BASENAME


def generations_prefix(area: str) -> str:
    return area + GENERATIONS_DIR


def new_generation(area: str) -> str:
    """A fresh generation prefix for `area`."""
    return f"{generations_prefix(area)}{uuid.uuid4().hex[:16]}/"


def is_reserved(path: str) -> bool:
    """Is `path` (relative to an area) one of the names generations keep for themselves?"""
    return path == POINTER_BASENAME or path.startswith(GENERATIONS_DIR)


def resolve(store: ObjectStore, key: str, area: str) -> AreaView:
    """Where `key`/`area`'s tree is now (one GET of the pointer). NotFound if no key."""
    try:
        with store.open_object(key, pointer_object(area)) as reader:
            raw = b"".join(reader.iter_chunks())[: MAX_POINTER_BYTES + 1]
    except NotFound:
        if not store.container_exists(key):
            raise
        return AreaView(area=area, prefix=area)
    return AreaView(
        area=area, prefix=area + GENERATIONS_DIR + _parse(raw, key, area) + "/", objects=_count(raw)
    )


def _parse(raw: bytes, key: str, area: str) -> str:
    """The generation id of a pointer (written by anyone: checked like any input)."""
    try:
        generation = json.loads(raw)["generation"] if len(raw) <= MAX_POINTER_BYTES else None
    except (ValueError, KeyError, TypeError):
        generation = None
    if not isinstance(generation, str) or not _ID.fullmatch(generation):
        raise Conflict(
            f"the generation pointer {pointer_object(area)!r} of the key {key!r} "
            "is unreadable: delete it or replace the area",
            reason="bad_pointer",
        )
    return generation


def _count(raw: bytes) -> int:
    count = json.loads(raw).get("objects", 0)
    return count if isinstance(count, int) and count >= 0 else 0


def switch_to(store: ObjectStore, key: str, area: str, prefix: str, objects: int) -> None:
    """Make the generation under `prefix` the area's tree (one PUT: the switch itself)."""
    body = json.dumps(
        {"generation": prefix[len(generations_prefix(area)) :].rstrip("/"), "objects": objects}
    ).encode()
    store.put_object(
        key, pointer_object(area), io.BytesIO(body), len(body), content_type=POINTER_CONTENT_TYPE
    )


def list_view(
    store: ObjectStore,
    key: str,
    view: AreaView,
    prefix: str | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> list[ObjectInfo]:
    """The stored objects of the area's current tree under `prefix` (an area-relative
    prefix such as `input/sub/`; default the whole area), with their stored names.
    A generation listed whole must hold at least the objects its pointer promises:
    listed again while Swift's listing lags, StorageUnavailable if it never catches up."""
    wanted = view.physical(prefix if prefix is not None else view.area)
    for attempt in range(LISTING_ATTEMPTS):
        infos = [o for o in store.list_objects(key, wanted) if view.shows(o.name)]
        if view.objects is None or prefix not in (None, view.area) or len(infos) >= view.objects:
            return infos
        sleep(0.1 * 2**attempt)
    raise StorageUnavailable(
        f"the listing of {view.prefix!r} in the key {key!r} shows "
        f"{len(infos)} of its {view.objects} objects; retry later"
    )


def logical_infos(view: AreaView, infos: list[ObjectInfo]) -> Iterator[ObjectInfo]:
    """The objects under the names readers see."""
    for info in infos:
        yield replace(info, name=view.logical(info.name)) if view.is_generation else info
