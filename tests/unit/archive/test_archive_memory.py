"""Memory stays flat: a 200 MiB archive streams through in a few MiB, whatever its format.

The archive is generated on the fly by radswift's own writers and fed to
iter_archive through read(n), so neither side ever holds it whole; tracemalloc
measures the peak of Python allocations over the whole write-and-read pipeline.
"""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator

import pytest
from archive_support import ChunkReader

from radswift.archive import ArchiveLimits, Format, OutEntry, iter_archive, tar_stream, zip_stream

MIB = 1024 * 1024
TOTAL = 200 * MIB
ENTRY = 512 * 1024  # a DICOM-sized file
BLOCK = os.urandom(ENTRY)  # incompressible, so tar.gz is not judged a bomb


def _entries() -> Iterator[OutEntry]:
    for i in range(TOTAL // ENTRY - 2):
        yield OutEntry(path=f"study/s{i // 100}/im{i}.dcm", size=ENTRY, mtime=0.0, chunks=_block)
    # one NIfTI-like volume bigger than any chunk
    yield OutEntry(path="vol.nii", size=2 * ENTRY, mtime=0.0, chunks=lambda: [BLOCK, BLOCK])


def _block() -> list[bytes]:
    return [BLOCK]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tar", "tar.gz", "zip"])
def test_a_200_mib_archive_streams_in_flat_memory(fmt: Format) -> None:
    if fmt == "zip":
        produced = zip_stream(_entries())
    else:
        produced = tar_stream(_entries(), gzip=fmt == "tar.gz")
    reader = ChunkReader(produced)
    total = files = 0
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        for _entry, chunks in iter_archive(reader.read, fmt, ArchiveLimits()):
            assert chunks is not None
            files += 1
            for data in chunks:
                total += len(data)
                digest.update(data[:16])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (files, total) == (TOTAL // ENTRY - 1, TOTAL)
    assert peak < 50 * MIB, f"peak {peak / MIB:.1f} MiB"
    print(f"{fmt}: peak {peak / MIB:.1f} MiB for {total / MIB:.0f} MiB")
