"""tar_size predicts the exact length of tar_stream, so a pull can send Content-Length."""

from __future__ import annotations

import os

import pytest

from radswift.archive import OutEntry, tar_stream
from radswift.archive.write import tar_size


def entry(path: str, data: bytes | None) -> OutEntry:
    if data is None:
        return OutEntry(path=path, size=0, mtime=1_700_000_000.0, chunks=None, mode=0o755)
    return OutEntry(path=path, size=len(data), mtime=1_700_000_000.0, chunks=lambda: [data])


@pytest.mark.parametrize(
    "entries",
    [
        [],
        [entry("empty.dcm", b"")],
        [entry("a/", None), entry("a/IM-1.dcm", b"x" * 511), entry("a/IM-2.dcm", b"y" * 512)],
        [entry("naïve — 患者/" + "long-name-" * 30 + ".nii", os.urandom(70_000))],
        [entry(f"series/IM-{i:05d}.dcm", os.urandom(i * 37)) for i in range(60)],
    ],
    ids=["nothing", "empty-file", "block-edges", "pax-long-non-ascii-name", "many"],
)
def test_tar_size_is_the_streamed_length(entries: list[OutEntry]) -> None:
    streamed = sum(len(chunk) for chunk in tar_stream(entries))
    assert tar_size(entries) == streamed
