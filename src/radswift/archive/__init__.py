"""Safe, streamed archive reading (pushes) and writing (pulls) for pfioh.

Uploads are read as a stream: nothing whole in memory, every entry name
validated, links and devices refused, sizes, counts and compression ratio
capped while the bytes flow. Downloads are built on the fly as ZIP64 or pax tar.
"""

from radswift.archive.limits import ArchiveLimits
from radswift.archive.model import ArchiveEntry, OutEntry
from radswift.archive.paths import normalize_entry_path
from radswift.archive.read import iter_archive
from radswift.archive.source import Format
from radswift.archive.write import tar_stream, zip_stream

__all__ = [
    "ArchiveEntry",
    "ArchiveLimits",
    "Format",
    "OutEntry",
    "iter_archive",
    "normalize_entry_path",
    "tar_stream",
    "zip_stream",
]
