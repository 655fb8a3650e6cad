"""An area (a prefix such as `input/` or `output/`) moved whole, in whichever layout it has.

Readers should not care how an area was written: `fetch_area` downloads the per-file
objects and unpacks the area's bundle too, so `radswift cp swift://KEY/output/ DIR` and
the publisher's `get` give the same tree for either layout. A path that is both in the
bundle and an object of its own is an error, never "one of them wins".
"""

from __future__ import annotations

import time
from pathlib import Path

from radswift.bundle import LAYOUTS, Layout, bundle_object
from radswift.bundle.read import unpack_bundle
from radswift.bundle.write import write_bundle
from radswift.errors import Conflict, InvalidInput, NotFound
from radswift.names import INPUT_PREFIX, OUTPUT_PREFIX
from radswift.store.base import ObjectStore
from radswift.transfer import Progress, TransferOptions, TransferResult, download_tree


def bundles_under(store: ObjectStore, key: str, prefix: str) -> list[str]:
    """The bundle objects a download of `prefix` covers: the prefix's own area's, or, for
    the whole key (""), those of input/ and output/. A deeper prefix has none."""
    if prefix:
        if not prefix.endswith("/"):
            return []
        candidates = [bundle_object(prefix)]
    else:
        candidates = [bundle_object(INPUT_PREFIX), bundle_object(OUTPUT_PREFIX)]
    return [name for name in candidates if _exists(store, key, name)]


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
        store, key, prefix, dest, options=options, progress=progress, skip=set(bundles)
    )
    combined = TransferResult(
        files=result.files + files,
        bytes=result.bytes + nbytes,
        skipped=result.skipped,
        failures=result.failures,
        seconds=time.monotonic() - started,
        ignored=result.ignored,
    )
    return combined, files


def _exists(store: ObjectStore, key: str, name: str) -> bool:
    try:
        store.head_object(key, name)
    except NotFound:
        return False
    return True


def parse_layout(text: str) -> Layout:
    """'objects' or 'bundle', else InvalidInput naming the choices."""
    if text not in LAYOUTS:
        raise InvalidInput(f"unknown layout {text!r}: use {' or '.join(LAYOUTS)}")
    return text


def check_one_layout(store: ObjectStore, key: str, area: str, layout: Layout) -> None:
    """Conflict if writing `layout` into `area` would mix it with the other layout.

    A bundle needs an area (a prefix ending in '/'); the area must not hold per-file
    objects, and per-file objects must not go into an area holding a bundle. Replacing
    one layout by the other is an explicit `radswift rm -r` first."""
    if layout == "bundle" and not area:
        raise InvalidInput("a bundle goes into an area: swift://KEY/input/ or swift://KEY/output/")
    if not area:
        return
    bundle = bundle_object(area)
    try:
        others = [i.name for i in store.list_objects(key, area)]
    except NotFound:
        return  # a new key: nothing to mix with
    if layout == "bundle" and any(name != bundle for name in others):
        raise Conflict(
            f"swift://{key}/{area} holds per-file objects; remove them first"
            f" (radswift rm -r swift://{key}/{area}) or upload with --layout objects"
        )
    if layout == "objects" and bundle in others:
        raise Conflict(
            f"swift://{key}/{area} holds a bundle; remove it first"
            f" (radswift rm swift://{key}/{bundle}) or upload with --layout bundle"
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
    )
