"""write_bundle: a local tree stored as an area's bundle object, read in place, whole or not at all.

The tree is walked once by the transfer engine's planner (so symbolic links and special
files are skipped and reported exactly as a per-file upload reports them), checked
against what the bundle's readers accept (check.py: names and ArchiveLimits, before
anything is stored), laid out as a pax tar (layout.py) and handed to the store as a
seekable view: no spooled copy. A tar up to `segment_size` is one PUT; a bigger one is
put as windows of the view, segments in `<key>_segments` named as the transfer engine
names them, and the manifest is written LAST, so readers see the previous bundle or the
new one, never a partial one.

Cleanup is careful because two writers may overlap on one area (a job re-run while the
previous put is still going, two `radswift cp`): only the segments listed in the
manifest this write replaced (read before writing) are deleted, and only if the bundle
is still the one this write stored (its ETag, HEAD again just before). Anything else
would delete the segments of a concurrent writer's live bundle. The price is that the
segments of a bundle replaced in a race, or of a crashed writer, may be left behind.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from radswift.archive import ArchiveLimits
from radswift.bundle import BYTES_META, FILES_META, bundle_object
from radswift.bundle.check import check_bundlable
from radswift.bundle.layout import LayoutEntry, SourceChanged, TarLayout, TarView
from radswift.errors import InvalidInput, NotFound, TransferError
from radswift.names import validate_key, validate_object_name
from radswift.store.base import ObjectInfo, ObjectStore
from radswift.transfer import segments as seg
from radswift.transfer.plan import UploadPlan, plan_upload
from radswift.transfer.remove import delete_many

TAR_CONTENT_TYPE = "application/x-tar"


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleResult:
    """What write_bundle stored: `name` (the bundle object), its file count and content
    bytes, the tar's `size`, `segments` (0 for a single object), and what was skipped."""

    name: str
    files: int
    bytes: int
    dirs: int
    size: int
    segments: int
    seconds: float
    ignored: list[tuple[str, str]] = field(default_factory=list)


def write_bundle(
    store: ObjectStore,
    key: str,
    area: str,
    source_dir: Path,
    *,
    segment_size: int,
    segment_workers: int = 1,
    follow_symlinks: bool = False,
    limits: ArchiveLimits | None = None,
) -> BundleResult:
    """Store the tree `source_dir` as `<key>/<area>.radswift-bundle.tar` (area: "output/").

    Only the bundle object is written: keeping the area to one layout (deleting its
    per-file objects afterwards) is the caller's part of the contract, as the publisher
    does for output/. Raises, with nothing stored: InvalidInput (not a directory; a
    name or a size the readers' `limits` would refuse, reason in
    check.UNBUNDLABLE_REASONS), TransferError (entries that cannot be read, a file that
    changed while read: local trouble, exit 1); and the store's errors."""
    started = time.monotonic()
    validate_key(key)
    name = validate_object_name(bundle_object(area))
    if not source_dir.is_dir():
        raise InvalidInput(f"{source_dir} is not a directory")
    plan = plan_upload(source_dir, follow_symlinks=follow_symlinks)
    if plan.failures:
        raise TransferError(
            f"{len(plan.failures)} entries of {source_dir} cannot be read; no bundle was stored",
            plan.failures,
        )
    entries = layout_entries(source_dir, plan, follow_symlinks=follow_symlinks)
    check_bundlable(entries, limits or ArchiveLimits())
    layout = TarLayout(entries)
    metadata = {FILES_META: str(len(plan.files)), BYTES_META: str(plan.total_bytes)}
    store.ensure_container(key)
    replaced = _segments_of(store, key, name)
    try:
        if layout.size <= segment_size:
            stored, keep = _put_whole(store, key, name, layout, metadata), set[str]()
        else:
            stored, keep = _put_segmented(
                store, key, name, layout, metadata, segment_size, segment_workers
            )
    except OSError as exc:
        raise _read_failure(exc, source_dir) from None
    _delete_replaced(store, key, name, stored, [r for r in replaced if r not in keep])
    return BundleResult(
        name=name, files=len(plan.files), bytes=plan.total_bytes, dirs=len(plan.markers),
        size=layout.size, segments=len(keep), seconds=time.monotonic() - started,
        ignored=list(plan.ignored),
    )  # fmt: skip


def layout_entries(
    source_dir: Path, plan: UploadPlan, *, follow_symlinks: bool = False
) -> list[LayoutEntry]:
    """The plan's files and empty directories in name order (a stable, diffable tar).

    Followed links are resolved now: the view opens its sources without following
    links, so a file swapped for a link after planning is an error, not a detour."""
    resolve = os.path.realpath if follow_symlinks else str
    entries = [LayoutEntry(f.rel, f.size, f.mtime, resolve(f.path)) for f in plan.files]
    for rel in plan.markers:
        entries.append(LayoutEntry(rel.rstrip("/"), 0, _dir_mtime(source_dir / rel), None))
    entries.sort(key=lambda entry: entry.path.encode("utf-8", "surrogateescape"))
    return entries


def _dir_mtime(path: Path) -> float:
    try:
        return os.stat(path).st_mtime  # noqa: PTH116
    except OSError:
        return time.time()


def _read_failure(exc: OSError, source_dir: Path) -> TransferError:
    """A local file that could not be read or changed while read: nothing was stored."""
    where = os.fsdecode(exc.filename) if exc.filename else os.fspath(source_dir)
    rel = os.path.relpath(where, source_dir)
    if isinstance(exc, SourceChanged):
        return TransferError(
            f"{exc.strerror}; no bundle was stored",
            [(rel, "changed while read")],
            reason="source_changed",
        )
    why = exc.strerror or str(exc)
    return TransferError(
        f"cannot read {where}: {why}; no bundle was stored", [(rel, why)], reason="local_read"
    )


def _segments_of(store: ObjectStore, key: str, name: str) -> list[str]:
    """Names of the segments in `<key>_segments` of the bundle now stored (if an SLO), as
    this write will replace it; opened at its end, so no byte of it is read."""
    container = seg.segments_container_of(key)
    try:
        info = store.head_object(key, name)
        if not info.large:
            return []
        with store.open_object(key, name, offset=info.size) as reader:
            refs = list(reader.segments or ())
    except NotFound:
        return []
    # only segments named for this object: never one some other object may share
    return [r.name for r in refs if r.container == container and seg.is_segment_of(name, r.name)]


def _delete_replaced(
    store: ObjectStore, key: str, name: str, stored: ObjectInfo, replaced: list[str]
) -> None:
    """Delete the replaced bundle's segments if ours is still the bundle (module docstring)."""
    if not replaced:
        return
    try:
        current = store.head_object(key, name)
    except NotFound:
        return  # deleted since: the delete took whatever it held
    if current.etag != stored.etag or current.large != stored.large:
        return  # a concurrent writer replaced ours; its own cleanup is its business
    delete_many(store, seg.segments_container_of(key), replaced, workers=1).raise_first()


def _put_whole(
    store: ObjectStore, key: str, name: str, layout: TarLayout, metadata: dict[str, str]
) -> ObjectInfo:
    with TarView(layout) as view:
        return store.put_object(
            key,
            name,
            view.as_binary(),
            layout.size,
            content_type=TAR_CONTENT_TYPE,
            metadata=metadata,
        )


def _put_segmented(
    store: ObjectStore,
    key: str,
    name: str,
    layout: TarLayout,
    metadata: dict[str, str],
    segment_size: int,
    workers: int,
) -> tuple[ObjectInfo, set[str]]:
    """Windows of the tar as segments (each read by a view of its own), manifest last."""
    stamp = f"{time.time():f}"  # a new segment set: the old bundle stays whole until replaced
    sources = [
        seg.SegmentSource(length, functools.partial(_window, layout, offset, length))
        for offset, length in seg.split(layout.size, segment_size)
    ]
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="radswift-bundle") as pool:
        stored = seg.put_segmented(
            store,
            key,
            name,
            sources,
            pool=pool,
            upload_id=seg.cli_upload_id(stamp, layout.size, segment_size),
            content_type=TAR_CONTENT_TYPE,
            metadata=metadata,
        )
    return stored.info, {ref.name for ref in stored.segments}


@contextlib.contextmanager
def _window(layout: TarLayout, offset: int, length: int) -> Iterator[BinaryIO]:
    with TarView(layout, offset, length) as view:
        yield view.as_binary()
