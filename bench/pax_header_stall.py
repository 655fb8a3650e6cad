"""How long one hostile pax header holds the interpreter (CVE-2024-6232), by header size.

tarfile searches every pax header for `hdrcharset` with a regex that is quadratic in a
run of digits on Pythons without the fix; `re` holds the GIL meanwhile, so every thread
of pfioh (the event loop included) waits. This times plain tarfile on a worst-case
header (all digits) of each size, which is what chose ArchiveLimits.max_header_bytes,
and then radswift's reader on the largest, which refuses it before tarfile parses it.

    .venv/bin/python bench/pax_header_stall.py
"""

from __future__ import annotations

import io
import platform
import tarfile
import time

from radswift.archive import ArchiveLimits, iter_archive
from radswift.archive.limits import DEFAULT_MAX_HEADER_BYTES
from radswift.errors import InvalidInput

SIZES = (1024, 2048, 4096, 8192, 16384, 32768, 65536)


def hostile_tar(size: int) -> bytes:
    header = tarfile.TarInfo("././@PaxHeader")
    header.type, header.size = tarfile.XHDTYPE, size
    member = tarfile.TarInfo("a")
    return (
        header.tobuf(tarfile.USTAR_FORMAT)
        + b"1" * size
        + bytes(-size % 512)
        + member.tobuf(tarfile.USTAR_FORMAT)
        + bytes(1024)
    )


def plain_tarfile_seconds(blob: bytes) -> float:
    start = time.perf_counter()
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r") as tar:
            tar.getmembers()
    except tarfile.TarError:
        pass
    return time.perf_counter() - start


def radswift_seconds(blob: bytes) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        for _entry, chunks in iter_archive(io.BytesIO(blob), "tar", ArchiveLimits()):
            for _ in chunks or ():
                pass
        outcome = "accepted"
    except InvalidInput as err:
        outcome = f"refused ({err.reason})"
    return time.perf_counter() - start, outcome


def main() -> None:
    print(
        f"Python {platform.python_version()}; default max_header_bytes {DEFAULT_MAX_HEADER_BYTES}"
    )
    for size in SIZES:
        blob = hostile_tar(size)
        best = min(plain_tarfile_seconds(blob) for _ in range(3))
        print(f"pax header of {size:6d} digits: tarfile {best * 1000:8.1f} ms")
    seconds, outcome = radswift_seconds(hostile_tar(SIZES[-1]))
    print(f"radswift on {SIZES[-1]} digits: {seconds * 1000:.1f} ms, {outcome}")


if __name__ == "__main__":
    main()
