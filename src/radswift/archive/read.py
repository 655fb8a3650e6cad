"""iter_archive: one entry point over tar, tar.gz and zip uploads, streamed and checked.

The contract a consumer relies on (pfioh's push handler):
- entries come in archive order; a file entry comes with an iterator of its
  bytes (chunks of up to 1 MiB) that should be consumed before asking for the
  next entry; if it is not, the rest is read and discarded (still checked);
- paths are normalized and validated (radswift.archive.paths); the archive's
  root ("./") is skipped; a path seen twice, or a file that is also a
  directory, is refused (duplicates are errors, never "last one wins");
- every error is a radswift.errors.InvalidInput: UnsafeArchive for hostile
  content (links, devices, escaping or duplicate paths, limits: too_large=True
  maps to HTTP 413), plain InvalidInput for truncated or corrupt archives
  (messages start "truncated archive" / "corrupt ...");
- an error stops iteration; the entry that was streaming when it happened is
  incomplete, and nothing after it is yielded. Commit (publish) nothing until
  iteration has ended without error: some faults can only show at the end (a
  gzip trailer's CRC, a zip's central directory, which is where zip records
  symlinks).
"""

from __future__ import annotations

from collections.abc import Iterator

from radswift.archive.limits import ArchiveLimits, Tally
from radswift.archive.model import CHUNK_BYTES, ArchiveEntry
from radswift.archive.read_tar import iter_tar
from radswift.archive.read_zip import iter_zip
from radswift.archive.source import CountingReader, Format, GunzipReader, ReadSource, sniff
from radswift.errors import InvalidInput

# A tar's end-of-archive marker is followed by padding to its record size
# (10 KiB for GNU tar); more than this after it is not a tar we wrote or expect.
_MAX_TAR_TRAILER = 1024 * 1024


def iter_archive(
    read: ReadSource, fmt: Format, limits: ArchiveLimits | None = None
) -> Iterator[tuple[ArchiveEntry, Iterator[bytes] | None]]:
    """Yield (entry, chunks) for each entry; chunks is None for a directory.

    `read` is a callable read(n) -> bytes or an object with .read(n); it is read
    sequentially, never seeked. `fmt` "auto" sniffs the magic bytes (gzip is
    taken to be tar.gz; a pre-POSIX tar without the 'ustar' magic needs "tar").
    """
    limits = limits or ArchiveLimits()
    reader = CountingReader(read)
    kind = sniff(reader) if fmt == "auto" else fmt
    if kind == "zip":
        yield from iter_zip(reader, limits)
        return
    if kind not in ("tar", "tar.gz"):
        raise InvalidInput(f"unknown archive format {fmt!r}", reason="unknown_format")
    tally = Tally(limits)
    source: CountingReader | GunzipReader = reader
    if kind == "tar.gz":
        source = GunzipReader(reader, tally, chunk=CHUNK_BYTES)
    yield from iter_tar(source, limits, tally)
    _drain_trailer(source)


def _drain_trailer(source: CountingReader | GunzipReader) -> None:
    """Read to the end: this verifies a gzip trailer (CRC, length) and consumes the body."""
    trailing = 0
    while data := source.read(CHUNK_BYTES):
        trailing += len(data)
        if trailing > _MAX_TAR_TRAILER:
            raise InvalidInput("unexpected data after the end of the tar", reason="corrupt")
