"""Reading a zip as a stream (stream-unzip), with radswift's checks around every entry.

stream-unzip parses local headers and verifies CRC-32 and sizes; this module
adds path validation, limits counted on the bytes actually produced, the bomb
ratio, error translation (its exceptions never leak), and the central-directory
check for links (see zip_central: zip keeps file modes only there, so a zip link
is detected after the last entry has streamed; consumers must treat an archive
as failed until iteration ends without error).
"""

from __future__ import annotations

import io
import tempfile
from collections import deque
from collections.abc import Iterator
from typing import IO

import stream_unzip as su

from radswift.archive.limits import ArchiveLimits, Tally
from radswift.archive.model import CHUNK_BYTES, ArchiveEntry
from radswift.archive.paths import PathRegistry, normalize_entry_path
from radswift.archive.source import CountingReader
from radswift.archive.zip_central import NameDigest, check_central_directory
from radswift.errors import InvalidInput, UnsafeArchive

Item = tuple[ArchiveEntry, Iterator[bytes] | None]

_SPILL_BYTES = 16 * 1024 * 1024
_FIRST_CHUNK = 16 * 1024
# Room per entry for one central directory record beyond its name (46 fixed bytes
# plus extra fields: zip64, timestamps, uid/gid are a few dozen bytes each).
_CENTRAL_SLACK_PER_ENTRY = 1024


class _TailRecorder:
    """Feeds stream-unzip and keeps the bytes after the latest finished entry.

    When an entry ends, stream-unzip may not yet have used the last chunks it
    pulled, so the recording starts at the oldest of the last three chunks. Kept
    as references (no copy) until it outgrows _SPILL_BYTES, then spilled to disk.
    """

    def __init__(self, reader: CountingReader, cap: int) -> None:
        self._reader = reader
        self._recent: deque[tuple[int, bytes]] = deque(maxlen=3)
        self._offset = 0
        self._cap = cap
        self._parts: list[bytes] | None = None
        self._spill: IO[bytes] | None = None
        self.start = 0
        self.length = 0

    def chunks(self) -> Iterator[bytes]:
        """The input, in chunks growing from 16 KiB to CHUNK_BYTES: the bomb ratio is judged
        on the bytes handed to stream-unzip, so a small first chunk catches a small bomb
        after 200 times 16 KiB of output, not 200 times its whole size."""
        size = _FIRST_CHUNK
        while data := self._reader.read(size):
            size = min(2 * size, CHUNK_BYTES)
            self._recent.append((self._offset, data))
            self._offset += len(data)
            if self._parts is not None:
                self._record(data)
            yield data

    def mark(self) -> None:
        """An entry just ended: record from here (give or take the unread chunks) on."""
        self.unmark()
        self._parts = []
        self.start = self._recent[0][0] if self._recent else self._offset
        for _, data in self._recent:
            self._record(data)

    def unmark(self) -> None:
        """A new entry began: what was recorded was not the central directory."""
        if self._spill is not None:
            self._spill.close()
        self._parts, self._spill, self.length = None, None, 0

    def recorded(self) -> IO[bytes]:
        if self._spill is not None:
            return self._spill
        return io.BytesIO(b"".join(self._parts or []))

    def _record(self, data: bytes) -> None:
        self.length += len(data)
        if self.length > self._cap:
            raise UnsafeArchive(
                "the zip central directory is too large", reason="archive_too_large", too_large=True
            )
        if self._spill is not None:
            self._spill.write(data)
            return
        assert self._parts is not None
        self._parts.append(data)
        if self.length > _SPILL_BYTES:
            self._spill = tempfile.TemporaryFile()  # noqa: SIM115 - closed by unmark()
            for part in self._parts:
                self._spill.write(part)
            self._parts = []


def iter_zip(reader: CountingReader, limits: ArchiveLimits) -> Iterator[Item]:
    """Yield each entry of a zip; see radswift.archive.iter_archive for the contract."""
    tally, registry, names = Tally(limits), PathRegistry(), NameDigest()
    cap = limits.max_entries * (limits.max_name_bytes + _CENTRAL_SLACK_PER_ENTRY) + 8 * CHUNK_BYTES
    recorder = _TailRecorder(reader, cap)
    recorder.mark()
    members = su.stream_unzip(
        recorder.chunks(),
        chunk_size=CHUNK_BYTES,
        allowed_encryption_mechanisms=(su.NO_ENCRYPTION,),
    )
    current = "(archive start)"
    try:
        for raw_name, size, raw_chunks in members:
            recorder.unmark()
            names.add(raw_name)
            current = raw_name.decode("utf-8", "replace")
            entry = _entry(raw_name, size, limits)
            if entry.path:
                registry.add(entry.path, is_dir=entry.is_dir)
            tally.start_entry(entry.path, entry.size)
            if entry.is_dir:
                _drain_directory(raw_chunks, entry.path)
                if entry.path:
                    yield entry, None
            else:
                chunks = _checked(raw_chunks, entry, tally, reader)
                yield entry, chunks
                for _ in chunks:
                    pass
            recorder.mark()
        current = "(central directory)"
        tail = recorder.recorded()
        check_central_directory(tail, recorder.length, recorder.start, names)
    except su.UnzipError as exc:
        raise translate_unzip_error(exc, current) from None
    finally:
        recorder.unmark()


def _entry(raw_name: bytes, size: int | None, limits: ArchiveLimits) -> ArchiveEntry:
    try:
        name = raw_name.decode("utf-8")
    except UnicodeDecodeError:
        name = raw_name.decode("cp437")  # the zip default when the UTF-8 flag is unset
    path = normalize_entry_path(name, max_name_bytes=limits.max_name_bytes)
    is_dir = name.endswith("/")
    if not path and not is_dir:
        raise UnsafeArchive(f"entry {name!r} has an empty name", reason="bad_name")
    return ArchiveEntry(path=path, is_dir=is_dir, size=0 if is_dir else size, mtime=None)


def _drain_directory(raw_chunks: Iterator[bytes], path: str) -> None:
    for data in raw_chunks:
        if data:
            raise UnsafeArchive(f"directory entry {path!r} carries data", reason="bad_entry")


def _checked(
    raw_chunks: Iterator[bytes], entry: ArchiveEntry, tally: Tally, reader: CountingReader
) -> Iterator[bytes]:
    """The entry's bytes, with limits, declared size and bomb ratio enforced as they come."""
    done = 0
    try:
        for data in raw_chunks:
            done += len(data)
            if entry.size is not None and done > entry.size:
                raise InvalidInput(
                    f"corrupt zip: entry {entry.path!r} is longer than "
                    f"its declared {entry.size} bytes",
                    reason="corrupt",
                )
            tally.add_bytes(entry.path, done, len(data))
            tally.check_ratio(tally.total_bytes, reader.consumed)
            yield data
    except su.UnzipError as exc:
        raise translate_unzip_error(exc, entry.path) from None


def translate_unzip_error(exc: su.UnzipError, where: str) -> InvalidInput:
    """Map stream-unzip's exceptions to radswift's, naming the entry."""
    if isinstance(exc, su.TruncatedDataError):
        return InvalidInput(f"truncated archive: the zip ends inside {where!r}", reason="truncated")
    if isinstance(exc, su.CRC32IntegrityError):
        return InvalidInput(f"corrupt zip: CRC mismatch in entry {where!r}", reason="corrupt")
    if isinstance(exc, su.SizeIntegrityError):
        return InvalidInput(f"corrupt zip: size mismatch in entry {where!r}", reason="corrupt")
    if isinstance(exc, su.UncompressError):
        return InvalidInput(
            f"corrupt zip: bad compressed data in entry {where!r}", reason="corrupt"
        )
    if isinstance(exc, su.MissingPasswordError | su.PasswordError):
        return InvalidInput(
            f"entry {where!r} is encrypted, which is not supported", reason="unsupported"
        )
    if isinstance(exc, su.NotStreamUnzippable):
        return InvalidInput(
            f"entry {where!r} is stored uncompressed without its size before the data, "
            "so the zip cannot be read as a stream (write it with deflate)",
            reason="unsupported",
        )
    if isinstance(exc, su.UnsupportedFeatureError):
        kind = type(exc).__name__
        return InvalidInput(
            f"entry {where!r} uses an unsupported zip feature ({kind})", reason="unsupported"
        )
    return InvalidInput(f"corrupt zip near {where!r} ({type(exc).__name__})", reason="corrupt")
