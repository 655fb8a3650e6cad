"""Downloading objects under a prefix (or one object) into a local tree, verified.

Each object streams into a hidden temp file beside its destination, hashed as it
arrives (MD5 against the ETag, or segment by segment for a large object), and is
renamed into place only once verified: a partial or corrupt file never appears under
its final name. Object names that would escape the destination are refused and
reported; zero-byte `dir/` markers become (empty) directories; `mtime` metadata
becomes the file's modification time. The bytes move through fetch.py: reused
buffers, and a large object's segments fetched in parallel.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from radswift.errors import InvalidInput, RadswiftError
from radswift.store.base import ObjectInfo, ObjectReader, ObjectStore
from radswift.transfer.failures import is_fatal, reason_of
from radswift.transfer.fetch import Buffers, SegmentFetcher, copy_to_file
from radswift.transfer.hashing import StreamVerifier, file_matches
from radswift.transfer.options import TransferOptions
from radswift.transfer.plan import safe_relative_path
from radswift.transfer.pool import run_workers
from radswift.transfer.progress import NullProgress, Progress
from radswift.transfer.results import ResultCollector, TransferResult

_DEFAULT_OPTIONS = TransferOptions()
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class _Item:
    info: ObjectInfo
    target: str


def download_tree(
    store: ObjectStore,
    container: str,
    prefix: str,
    dest: Path,
    *,
    options: TransferOptions = _DEFAULT_OPTIONS,
    progress: Progress | None = None,
    skip: Collection[str] = frozenset(),
    skip_under: tuple[str, ...] = (),
) -> TransferResult:
    """Download every object named `prefix + relative path` to `dest / relative path`.

    `skip`: object names to leave out (the publisher unpacks an area's bundle instead);
    `skip_under`: prefixes whose objects to leave out (an area's replace generations,
    radswift.generation, resolved by the caller)."""
    collector = ResultCollector()
    items: list[_Item] = []
    root = os.fspath(dest)
    for info in store.list_objects(container, prefix):
        if info.name in skip or info.name.startswith(skip_under):
            continue
        try:
            rel = safe_relative_path(info.name, prefix)
        except InvalidInput as exc:
            collector.fail(info.name, exc.message)
            continue
        if rel == "" and not info.name.endswith("/"):
            collector.fail(info.name, "its name is the prefix itself; download it as one object")
            continue
        items.append(_Item(info, f"{root}/{rel}" if rel else root))
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot create {dest}: {exc.strerror}") from None
    progress = progress or NullProgress()
    progress.set_total(len(items), sum(item.info.size for item in items))
    downloader = _Downloader(store, container, options, progress, collector)
    items.sort(key=lambda item: item.info.size, reverse=True)  # big ones overlap small ones
    try:
        run_workers(downloader.fetch, items, options.workers)
    except BaseException:
        downloader.close(interrupted=True)
        downloader.discard_partials()  # interrupted: leave no temp files behind
        raise
    downloader.close()
    return collector.result()


def download_object(
    store: ObjectStore,
    container: str,
    name: str,
    target: Path,
    *,
    options: TransferOptions = _DEFAULT_OPTIONS,
    progress: Progress | None = None,
) -> ObjectInfo:
    """Download one object to the file `target` (verified, atomically renamed into place).

    Raises the store's errors (NotFound, IntegrityError, ...) and OSError."""
    fetcher = SegmentFetcher(store, options.segment_workers, Buffers())
    try:
        with store.open_object(container, name) as reader:
            if fetcher.worthwhile(reader.segments):
                reader.close()  # the segments come straight from where they are stored
            sink = _Sink(fetcher, options, progress or NullProgress(), None)
            info = sink.save(reader, target)
    except BaseException:
        fetcher.close(interrupted=True)
        raise
    fetcher.close()
    return info


class _Sink:
    """Writes one reader's object to its target through a verified temp file."""

    def __init__(
        self,
        fetcher: SegmentFetcher,
        options: TransferOptions,
        progress: Progress,
        partials: set[Path] | None,
    ) -> None:
        self.fetcher, self.options, self.progress = fetcher, options, progress
        self.partials = partials
        """Temp files in use, to delete if the transfer is interrupted."""

    def save(self, reader: ObjectReader, target: Path) -> ObjectInfo:
        info = reader.info
        tmp = target.with_name(f".{target.name[:100]}.{uuid.uuid4().hex[:12]}.radswift-part")
        fd = os.open(tmp, _WRITE_FLAGS, 0o666)
        if self.partials is not None:
            self.partials.add(tmp)
        try:
            try:
                self._fill(reader, fd)
            finally:
                os.close(fd)
            mtime = _mtime(info) if self.options.preserve_mtime else None
            if mtime is not None:
                os.utime(tmp, (mtime, mtime))
            tmp.replace(target)
        except BaseException:
            _unlink(tmp)
            raise
        finally:
            if self.partials is not None:
                self.partials.discard(tmp)
        return info

    def _fill(self, reader: ObjectReader, fd: int) -> None:
        segments = reader.segments
        if segments is not None and self.fetcher.worthwhile(segments):
            self.fetcher.fetch(reader.info, segments, fd, self.progress)
            return
        verifier = StreamVerifier(reader.info, segments)
        copy_to_file(reader, fd, 0, verifier, self.progress, self.fetcher.buffers.get())
        verifier.finish()


class _Downloader:
    def __init__(
        self,
        store: ObjectStore,
        container: str,
        options: TransferOptions,
        progress: Progress,
        collector: ResultCollector,
    ) -> None:
        self.store, self.container, self.options = store, container, options
        self.progress, self.collector = progress, collector
        self._made: set[str] = set()
        self._lock = threading.Lock()
        self._partials: set[Path] = set()
        self._fetcher = SegmentFetcher(store, options.segment_workers, Buffers())
        self._sink = _Sink(self._fetcher, options, progress, self._partials)

    def close(self, *, interrupted: bool = False) -> None:
        self._fetcher.close(interrupted=interrupted)

    def discard_partials(self) -> None:
        for tmp in list(self._partials):
            _unlink(tmp)

    def fetch(self, item: _Item) -> None:
        name = item.info.name
        try:
            if name.endswith("/"):
                if item.info.size:
                    raise InvalidInput("its name ends in '/' but it is not an empty marker")
                self._makedirs(item.target)
                self.collector.done_directory()
                self.progress.file_done(name, True)
                return
            self._makedirs(item.target.rpartition("/")[0])
            if self.options.sync and self._unchanged(item):
                self.collector.skip()
                self.progress.advance(item.info.size)
                self.progress.file_done(name, True)
                return
            self._download(item.info, Path(item.target))
            self.collector.done(item.info.size)
            self.progress.file_done(name, True)
        except (RadswiftError, OSError) as exc:
            if is_fatal(exc):
                raise
            self.collector.fail(name, reason_of(exc))
            self.progress.file_done(name, False)

    def _download(self, listed: ObjectInfo, target: Path) -> None:
        if listed.large:
            # Opened at its end: the segments to fetch in parallel, no stream started.
            with self.store.open_object(self.container, listed.name, offset=listed.size) as r:
                if self._fetcher.worthwhile(r.segments):
                    self._sink.save(r, target)
                    return
        with self.store.open_object(self.container, listed.name) as reader:
            self._sink.save(reader, target)

    def _makedirs(self, path: str) -> None:
        """Create a directory once per transfer, not once per file."""
        if path in self._made:
            return
        try:
            Path(path).mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise InvalidInput(f"{path} exists and is not a directory") from None
        except NotADirectoryError:
            raise InvalidInput(f"a file is in the way of directory {path}") from None
        with self._lock:
            self._made.add(path)

    def _unchanged(self, item: _Item) -> bool:
        try:
            if Path(item.target).stat().st_size != item.info.size:
                return False
        except FileNotFoundError:
            return False
        # Opened at its end: the manifest's segments without streaming the bytes.
        with self.store.open_object(self.container, item.info.name, offset=item.info.size) as r:
            segments = r.segments
            etag = r.info.etag
        return file_matches(item.target, item.info.size, etag, segments)


def _mtime(info: ObjectInfo) -> float | None:
    try:
        return float(info.metadata["mtime"])
    except (KeyError, ValueError):
        return None


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)
