"""An area (a prefix such as `input/` or `output/`) moved whole, in whichever layout it has.

Readers should not care how an area was written: `fetch_area` downloads the per-file
objects and unpacks the area's bundle too, so `radswift cp swift://KEY/output/ DIR` and
the publisher's `get` give the same tree for either layout. A path that is both in the
bundle and an object of its own is an error, never "one of them wins". Only a
top-level area (`input/`, `output/`, `anything/`) holds a bundle, and a bundle is
unpacked whole: asking for a part of it is an error, never an empty download.
An area that a replacing pfioh push switched to a generation (radswift.generation) is
downloaded from its current generation only; a plain area without the generation
names a replace may be writing there.
"""

from __future__ import annotations

import time
from pathlib import Path

from radswift.bundle import Layout, bundle_object, would_mix
from radswift.bundle.read import unpack_bundle
from radswift.bundle.write import write_bundle
from radswift.errors import Conflict, InvalidInput, NotFound
from radswift.generation import POINTER_BASENAME, generations_prefix, pointer_object, resolve
from radswift.store.base import ObjectStore
from radswift.transfer import Progress, TransferOptions, TransferResult, download_tree


def top_area(prefix: str) -> str:
    """The top-level area a prefix or object name lies in ("input/" for "input/a/b.dcm"),
    "" if it has no '/'. Only a top-level area can hold a bundle (radswift.bundle)."""
    head, slash, _ = prefix.partition("/")
    return head + "/" if head and slash else ""


def bundles_under(store: ObjectStore, key: str, prefix: str) -> list[str]:
    """The bundle objects a download of `prefix` covers: its own if `prefix` is a top-level
    area, every top-level area's for the whole key (""). A prefix deeper inside an area
    stored as a bundle is an InvalidInput: a bundle is unpacked whole or not at all, and
    quietly downloading nothing would look like an empty directory."""
    if not prefix:
        try:
            return [i.name for i in store.list_objects(key) if i.name == _own_bundle(i.name)]
        except NotFound:
            return []
    area = top_area(prefix)
    if not area:
        return []
    if not _exists(store, key, bundle_object(area)):
        return []
    if prefix == area:
        return [bundle_object(area)]
    raise InvalidInput(
        f"swift://{key}/{area} is stored as one bundle; download swift://{key}/{area} whole",
        reason="inside_bundle",
    )


def _own_bundle(name: str) -> str:
    area = top_area(name)
    return bundle_object(area) if area else ""


def fetch_area(
    store: ObjectStore,
    key: str,
    prefix: str,
    dest: Path,
    *,
    options: TransferOptions,
    progress: Progress | None = None,
) -> tuple[TransferResult, int]:
    """Download everything under `prefix` into `dest`, unpacking bundles whole.

    Returns the combined result and how many of its files came from bundles. Bundles
    are unpacked first (all or nothing each); a bundle error raises, per-file failures
    are in the result as for download_tree."""
    started = time.monotonic()
    area = top_area(prefix)
    replaced: list[str] = []
    if area:
        view = resolve(store, key, area)
        if view.is_generation:
            result = download_tree(
                store, key, view.physical(prefix), dest, options=options, progress=progress
            )
            return result, 0
        skip_under: tuple[str, ...] = (generations_prefix(area),)  # a first replace's
    else:
        replaced = _replaced_areas(store, key)
        skip_under = tuple(replaced)  # each fetched from its generation below
    bundles = bundles_under(store, key, prefix)
    files, nbytes = 0, 0
    for name in bundles:
        area = name[: -len(name.rsplit("/", 1)[-1])]
        objects = {  # files only: a directory in both is merely shared
            info.name[len(area) :]
            for info in store.list_objects(key, area)
            if info.name != name and not info.name.endswith("/")
        }
        target = dest / area[len(prefix) :]
        unpacked = unpack_bundle(store, key, name, target, refuse=objects)
        files, nbytes = files + len(unpacked.files), nbytes + unpacked.bytes
    result = download_tree(
        store,
        key,
        prefix,
        dest,
        options=options,
        progress=progress,
        skip=set(bundles),
        skip_under=skip_under,
    )
    for other in replaced:  # a whole key: each replaced area from its generation
        part, _ = fetch_area(store, key, other, dest / other, options=options, progress=progress)
        result = _sum(result, part)
    combined = TransferResult(
        files=result.files + files,
        bytes=result.bytes + nbytes,
        skipped=result.skipped,
        failures=result.failures,
        seconds=time.monotonic() - started,
        ignored=result.ignored,
        directories=result.directories,
    )
    return combined, files


def _replaced_areas(store: ObjectStore, key: str) -> list[str]:
    """The top-level areas of the key that hold a generation pointer."""
    try:
        names = [i.name for i in store.list_objects(key)]
    except NotFound:
        return []
    return sorted(
        n[: -len(POINTER_BASENAME)]
        for n in names
        if n.count("/") == 1 and n.endswith("/" + POINTER_BASENAME)
    )


def _sum(one: TransferResult, other: TransferResult) -> TransferResult:
    return TransferResult(
        files=one.files + other.files,
        bytes=one.bytes + other.bytes,
        skipped=one.skipped + other.skipped,
        failures=[*one.failures, *other.failures],
        seconds=one.seconds + other.seconds,
        ignored=[*one.ignored, *other.ignored],
    )


def _exists(store: ObjectStore, key: str, name: str) -> bool:
    try:
        store.head_object(key, name)
    except NotFound:
        return False
    return True


def parse_layout(text: str) -> Layout:
    """'objects' or 'bundle', else InvalidInput naming the choices."""
    return Layout.parse(text)


def check_one_layout(store: ObjectStore, key: str, area: str, layout: Layout) -> None:
    """Conflict if writing `layout` into `area` would mix it with the other layout.

    A bundle goes only into a top-level area (`input/`, `output/`, `anything/`), which
    must not hold per-file objects; per-file objects must not go into an area holding a
    bundle, nor anywhere below it (a single file's object name: pass it as `area`, its
    top-level area is what counts). Replacing one layout by the other is an explicit
    `radswift rm -r` first."""
    if layout == "bundle":
        if not area or area != top_area(area):
            raise InvalidInput(
                f"a bundle goes into a top-level area such as swift://{key}/input/ or"
                f" swift://{key}/output/, not swift://{key}/{area}"
            )
        _check_no_objects(store, key, area)
        return
    top = top_area(area)
    if top and _exists(store, key, pointer_object(top)):
        raise Conflict(
            f"swift://{key}/{top} was replaced through pfioh and is read from a generation"
            f" (radswift.generation): objects written beside it would not be seen; push through"
            f" pfioh, or remove the area first (radswift rm -r swift://{key}/{top})"
        )
    held = [bundle_object(top)] if top and _exists(store, key, bundle_object(top)) else []
    if top and would_mix(held, top, Layout.OBJECTS):
        instead = " or upload with --layout bundle" if area == top else ""
        raise Conflict(
            f"swift://{key}/{top} holds a bundle; remove it first"
            f" (radswift rm swift://{key}/{bundle_object(top)}){instead}"
        )


def _check_no_objects(store: ObjectStore, key: str, area: str) -> None:
    try:
        names = [info.name for info in store.list_objects(key, area)]
    except NotFound:
        return  # a new key: nothing to mix with
    if would_mix(names, area, Layout.BUNDLE):
        raise Conflict(
            f"swift://{key}/{area} holds per-file objects; remove them first"
            f" (radswift rm -r swift://{key}/{area}) or upload with --layout objects"
        )


def upload_bundle(
    store: ObjectStore, source: Path, key: str, area: str, options: TransferOptions
) -> TransferResult:
    """`source` stored as the area's bundle, reported as a tree transfer."""
    done = write_bundle(
        store,
        key,
        area,
        source,
        segment_size=options.segment_size,
        segment_workers=options.upload_segment_workers,
        follow_symlinks=options.follow_symlinks,
    )
    return TransferResult(
        files=done.files,
        bytes=done.bytes,
        skipped=0,
        failures=[],
        seconds=done.seconds,
        ignored=done.ignored,
        directories=done.dirs,
    )
