"""Uploading a local tree (or one file) to a store: planned, validated, concurrent, verified.

Small files go one object per worker; files over the segment size are cut into
segments uploaded by a pool of their own (so object workers waiting on them cannot
starve it) and joined by a manifest written last. The store's put verifies each
object's MD5 against the ETag it returns. `sync` skips files whose size and MD5
already match (segment by segment for large objects), from one listing of the
prefix rather than a HEAD per file.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import stat
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from radswift.errors import InvalidInput, RadswiftError
from radswift.names import validate_prefix
from radswift.store.base import DIRECTORY_CONTENT_TYPE, ObjectInfo, ObjectStore
from radswift.transfer import segments as seg
from radswift.transfer.failures import is_fatal, reason_of
from radswift.transfer.hashing import file_matches
from radswift.transfer.local_open import open_planned
from radswift.transfer.options import TransferOptions
from radswift.transfer.plan import LocalFile, UploadPlan, plan_upload, validate_upload_names
from radswift.transfer.pool import run_workers
from radswift.transfer.progress import NullProgress, Progress, ProgressReader
from radswift.transfer.remove import delete_many
from radswift.transfer.results import ResultCollector, TransferResult

_DEFAULT_OPTIONS = TransferOptions()


def upload_tree(
    store: ObjectStore,
    source: Path,
    container: str,
    prefix: str,
    *,
    options: TransferOptions = _DEFAULT_OPTIONS,
    progress: Progress | None = None,
) -> TransferResult:
    """Upload the contents of directory `source` as objects `prefix + relative path`."""
    if not source.is_dir():
        raise InvalidInput(f"{source} is not a directory")
    plan = plan_upload(source, follow_symlinks=options.follow_symlinks)
    return _run(store, plan, container, prefix, options, progress)


def upload_plan(
    store: ObjectStore,
    plan: UploadPlan,
    container: str,
    prefix: str,
    *,
    options: TransferOptions = _DEFAULT_OPTIONS,
    progress: Progress | None = None,
) -> TransferResult:
    """Upload a plan made by plan_upload: for a caller that must know exactly which
    object names it wrote (the publisher deletes every other object under its prefix)."""
    return _run(store, plan, container, prefix, options, progress)


def upload_file(
    store: ObjectStore,
    source: Path,
    container: str,
    name: str,
    *,
    options: TransferOptions = _DEFAULT_OPTIONS,
    progress: Progress | None = None,
) -> TransferResult:
    """Upload one regular file as object `name` (segmented if larger than the segment size).

    A file named explicitly is followed if it is a symbolic link: the caller chose it."""
    try:
        info = source.stat()
    except OSError as exc:
        raise InvalidInput(f"cannot read {source}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(f"{source} is not a regular file")
    plan = UploadPlan(files=[LocalFile(str(source), name, info.st_size, info.st_mtime)])
    return _run(store, plan, container, "", options, progress, listing_prefix=name)


def _run(
    store: ObjectStore,
    plan: UploadPlan,
    container: str,
    prefix: str,
    options: TransferOptions,
    progress: Progress | None,
    *,
    listing_prefix: str | None = None,
) -> TransferResult:
    """Validate, then upload the plan; existing objects come from one listing (for sync
    and for cleaning up the segments of replaced large objects)."""
    validate_prefix(prefix)
    validate_upload_names(plan, prefix, options.segment_size)
    collector = ResultCollector()
    for path, reason in plan.ignored:
        collector.ignore(path, reason)
    for path, reason in plan.failures:
        collector.fail(path, reason)
    progress = progress or NullProgress()
    progress.set_total(len(plan.files) + len(plan.markers), plan.total_bytes)
    store.ensure_container(container)
    if any(f.size > options.segment_size for f in plan.files):
        store.ensure_container(seg.segments_container_of(container))
    listed = store.list_objects(container, prefix if listing_prefix is None else listing_prefix)
    existing = {info.name: info for info in listed}
    uploader = _Uploader(store, container, prefix, options, progress, collector, existing)
    uploader.root = plan.root
    try:
        run_workers(uploader.upload_marker, plan.markers, options.workers)
        # Largest first: their segments start early and overlap with the small files.
        files = sorted(plan.files, key=lambda f: f.size, reverse=True)
        run_workers(uploader.upload, files, options.workers)
    finally:
        uploader.close()
    return collector.result()


class _Uploader:
    def __init__(
        self,
        store: ObjectStore,
        container: str,
        prefix: str,
        options: TransferOptions,
        progress: Progress,
        collector: ResultCollector,
        existing: Mapping[str, ObjectInfo],
    ) -> None:
        self.store, self.container, self.prefix = store, container, prefix
        self.options, self.progress, self.collector = options, progress, collector
        self.existing = existing
        self.track = not isinstance(progress, NullProgress)
        self.seg_container = seg.segments_container_of(container)
        self._segment_pool: ThreadPoolExecutor | None = None
        self.root: str | None = None
        """Files are opened below it without following links (local_open.py)."""

    def close(self) -> None:
        if self._segment_pool is not None:
            self._segment_pool.shutdown(wait=True, cancel_futures=True)

    def upload_marker(self, rel: str) -> None:
        name = self.prefix + rel
        try:
            old = self.existing.get(name)
            if self.options.sync and old is not None and old.size == 0:
                self.collector.skip()
            else:
                put_marker(self.store, self.container, name)
                self.collector.done_directory()
            self.progress.file_done(rel, True)
        except (RadswiftError, OSError) as exc:
            self._failed(rel, exc)

    def upload(self, file: LocalFile) -> None:
        name = self.prefix + file.rel
        try:
            old = self.existing.get(name)
            if self.options.sync and old is not None and self._unchanged(file, name, old):
                self.collector.skip()
                self.progress.advance(file.size)
                self.progress.file_done(file.rel, True)
                return
            keep: set[str] = set()
            if file.size > self.options.segment_size:
                keep = self._put_large(file, name)
            else:
                self._put_small(file, name)
            if old is not None and old.large:
                stale = seg.stale_segments(self.store, self.container, name, keep)
                delete_many(self.store, self.seg_container, stale, workers=1).raise_first()
            self.collector.done(file.size)
            self.progress.file_done(file.rel, True)
        except (RadswiftError, OSError) as exc:
            self._failed(file.rel, exc)

    def _failed(self, rel: str, exc: BaseException) -> None:
        if is_fatal(exc):
            raise exc
        self.collector.fail(rel, reason_of(exc))
        self.progress.file_done(rel, False)

    def _unchanged(self, file: LocalFile, name: str, old: ObjectInfo) -> bool:
        if old.size != file.size:
            return False
        if old.large or file.size > self.options.segment_size:
            # Opened at its end: the manifest's segments without streaming the bytes.
            with self.store.open_object(self.container, name, offset=old.size) as reader:
                segments = reader.segments
            return file_matches(file.path, file.size, old.etag, segments)
        return file_matches(file.path, file.size, old.etag, None)

    def _metadata(self, file: LocalFile) -> dict[str, str]:
        return {"mtime": f"{file.mtime:f}"} if self.options.preserve_mtime else {}

    def _put_small(self, file: LocalFile, name: str) -> None:
        with open_planned(file, self.root) as handle:
            size = _size_of(handle)
            body: BinaryIO = ProgressReader(handle, self.progress) if self.track else handle  # type: ignore[assignment]
            self.store.put_object(self.container, name, body, size, metadata=self._metadata(file))

    def _put_large(self, file: LocalFile, name: str) -> set[str]:
        """Segments (in the segment pool), the manifest last; returns segment names."""
        if self._segment_pool is None:
            self._segment_pool = ThreadPoolExecutor(
                self.options.upload_segment_workers, thread_name_prefix="radswift-segment"
            )
        metadata = self._metadata(file)
        mtime = metadata.get("mtime", f"{file.mtime:f}")
        segment_size = self.options.segment_size
        sources = [
            seg.SegmentSource(length, functools.partial(self._window, file, offset))
            for offset, length in seg.split(file.size, segment_size)
        ]
        stored = seg.put_segmented(
            self.store,
            self.container,
            name,
            sources,
            pool=self._segment_pool,
            upload_id=seg.cli_upload_id(mtime, file.size, segment_size),
            metadata=metadata,
        )
        return {ref.name for ref in stored.segments}

    @contextlib.contextmanager
    def _window(self, file: LocalFile, offset: int) -> Iterator[BinaryIO]:
        """The file opened at `offset` (counted by the progress bar if there is one),
        opened as planned (local_open: no link planted since the walk is followed)."""
        with open_planned(file, self.root) as handle:
            handle.seek(offset)
            yield ProgressReader(handle, self.progress) if self.track else handle  # type: ignore[misc]


def put_marker(store: ObjectStore, container: str, name: str) -> ObjectInfo:
    """Store the zero-byte `dir/` marker of an empty directory (`radswift cp` and pfioh
    pushes write them alike, so either's downloads recreate the directory)."""
    return store.put_object(
        container, name, io.BytesIO(b""), 0, content_type=DIRECTORY_CONTENT_TYPE
    )


def _size_of(handle: BinaryIO) -> int:
    return os.fstat(handle.fileno()).st_size
