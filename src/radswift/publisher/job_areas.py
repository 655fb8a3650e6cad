"""Moving a job's areas in either layout: input/ into /share/incoming, outgoing/ to output/.

Input: the per-file objects are downloaded as always; a bundle (`input/.radswift-bundle.tar`,
radswift.bundle) is unpacked too, whole or not at all, and a path that is both in the
bundle and an object of its own is an error (never "one of them wins").

Output: published in the job's layout (`objects`, one per file, or `bundle`, one tar;
a tree that cannot be a bundle, e.g. a file named `T:1.dcm`, goes up as per-file objects
with a warning: a job's results are never lost over a file name), then every object
under output/ that this run did not write is deleted: a previous run's files, or the
other layout's bundle or objects. output/ is then exactly this run's tree. Nothing is
deleted unless the upload succeeded; the status object, written after, says which
layout output/ has and how many stale objects went.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from radswift.bundle import Layout
from radswift.bundle.area_transfer import fetch_area
from radswift.bundle.check import UNBUNDLABLE_REASONS
from radswift.bundle.write import write_bundle
from radswift.errors import InvalidInput
from radswift.generation import pointer_object
from radswift.names import INPUT_PREFIX, OUTPUT_PREFIX
from radswift.store.base import ObjectStore
from radswift.transfer import TransferOptions, TransferResult
from radswift.transfer.plan import plan_upload
from radswift.transfer.remove import delete_all
from radswift.transfer.upload import upload_plan

log = logging.getLogger("radswift.publisher")


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """What fetch_input wrote: files and bytes from objects and from a bundle together."""

    files: int
    bytes: int
    seconds: float
    bundled: int = 0
    """How many of the files came from the input bundle."""


@dataclass(kw_only=True)
class Published:
    """What publish_output did: the layout it used, the transfer's counts, the object names
    it wrote, and `fallback`: why the bundle asked for was not used (None if it was)."""

    layout: Layout
    result: TransferResult
    written: set[str] = field(default_factory=set)
    fallback: str | None = None


def fetch_input(store: ObjectStore, key: str, dest: Path, options: TransferOptions) -> Fetched:
    """Download `input/` into `dest`: the objects, and the bundle unpacked if there is one."""
    result, bundled = fetch_area(store, key, INPUT_PREFIX, dest, options=options)
    result.raise_for_failures()
    return Fetched(files=result.files, bytes=result.bytes, seconds=result.seconds, bundled=bundled)


def publish_output(
    store: ObjectStore, key: str, source: Path, layout: Layout, options: TransferOptions
) -> Published:
    """Upload `source` to `output/` in `layout`. Per-file failures (objects layout) are in
    the result (`raise_for_failures`); a bundle is stored whole or raises.

    A tree that cannot be a bundle (a name or a size its readers refuse:
    radswift.bundle.check) goes up as per-file objects instead, with a warning: a job's
    results are never lost for the layout's sake. `Published.layout` says which it was."""
    if layout == "bundle":
        try:
            return _publish_bundle(store, key, source, options)
        except InvalidInput as err:
            if err.reason not in UNBUNDLABLE_REASONS:
                raise
            log.warning("output/ of %s goes up as per-file objects: %s", key, err.message)
            fallback: str | None = err.message
    else:
        fallback = None
    if not source.is_dir():
        raise InvalidInput(f"{source} is not a directory")
    plan = plan_upload(source, follow_symlinks=options.follow_symlinks)
    result = upload_plan(store, plan, key, OUTPUT_PREFIX, options=options)
    written = {OUTPUT_PREFIX + rel for rel in [f.rel for f in plan.files] + plan.markers}
    return Published(layout=Layout.OBJECTS, result=result, written=written, fallback=fallback)


def _publish_bundle(
    store: ObjectStore, key: str, source: Path, options: TransferOptions
) -> Published:
    done = write_bundle(
        store, key, OUTPUT_PREFIX, source,
        segment_size=options.segment_size,
        segment_workers=options.upload_segment_workers,
        follow_symlinks=options.follow_symlinks,
    )  # fmt: skip
    result = TransferResult(
        files=done.files, bytes=done.bytes, skipped=0, failures=[],
        seconds=done.seconds, ignored=done.ignored, directories=done.dirs,
    )  # fmt: skip
    return Published(layout=Layout.BUNDLE, result=result, written={done.name})


def remove_stale(store: ObjectStore, key: str, keep: set[str], workers: int) -> int:
    """Delete every object under output/ not in `keep`; return how many were deleted.
    A replace generation's pointer goes first (radswift.generation: readers then see this
    run's objects, never a generation losing its objects)."""
    stale = [info.name for info in store.list_objects(key, OUTPUT_PREFIX) if info.name not in keep]
    pointer = pointer_object(OUTPUT_PREFIX)
    if pointer in stale:
        stale.remove(pointer)
        delete_all(store, key, [pointer], 1, failed="the output/ generation pointer")
        return 1 + delete_all(
            store, key, stale, workers, failed="stale objects under output/ could not be deleted"
        )
    return delete_all(
        store, key, stale, workers, failed="stale objects under output/ could not be deleted"
    )
