"""`survey_dicom`: what a key's prefix holds, by study and series, from headers alone.

Every object under the prefix is opened as a RangedFile and its DICOM header parsed
(radswift.dicom.headers): only the first few KiB of each slice cross the network, on
`workers` threads. A bundled area (one tar object, radswift.bundle) is read the same
way: tarfile walks the member headers through one RangedFile, seeking over the members'
data, and each member's DICOM header is read through a view of it, so one small
ranged read usually serves a tar header and the DICOM header behind it.

`bytes_read` says what that cost against `bytes_total`, what a download would move.
"""

from __future__ import annotations

import tarfile
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import IO, BinaryIO, cast

from radswift.bundle.area_transfer import bundles_under, top_area
from radswift.dicom.headers import SliceHeader, read_header
from radswift.errors import InvalidInput
from radswift.store.base import ObjectInfo, ObjectStore
from radswift.store.ranged import RangedFile
from radswift.transfer.pool import run_workers

DEFAULT_WORKERS = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesSummary:
    """One series: its files, their bytes, and the image sizes seen (`"ROWSxCOLUMNS"`)."""

    series_uid: str
    series_number: int | None
    modality: str
    files: int
    bytes: int
    frames: int
    sizes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StudySummary:
    study_uid: str
    series: tuple[SeriesSummary, ...]

    @property
    def files(self) -> int:
        return sum(s.files for s in self.series)

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.series)


@dataclass(frozen=True, slots=True, kw_only=True)
class DicomSurvey:
    """The studies found, the files that are not DICOM (name, reason), and the cost."""

    studies: tuple[StudySummary, ...]
    other: tuple[tuple[str, str], ...]
    other_bytes: int
    bytes_total: int
    bytes_read: int
    requests: int


@dataclass
class _Tally:
    """Headers and costs gathered by the worker threads (under one lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    headers: list[tuple[SliceHeader, int]] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)
    other_bytes: int = 0
    bytes_total: int = 0
    bytes_read: int = 0
    requests: int = 0

    def add(self, name: str, size: int, header: SliceHeader | str) -> None:
        with self.lock:
            self.bytes_total += size
            if isinstance(header, SliceHeader):
                self.headers.append((header, size))
            else:
                self.other.append((name, header))
                self.other_bytes += size

    def cost(self, ranged: RangedFile) -> None:
        with self.lock:
            self.bytes_read += ranged.fetched
            self.requests += ranged.requests


def survey_dicom(
    store: ObjectStore, key: str, prefix: str = "", *, workers: int = DEFAULT_WORKERS
) -> DicomSurvey:
    """Group what `swift://key/prefix` holds by study and series, reading headers only.

    InvalidInput for a prefix inside a bundled area (as for a download); NotFound for
    a missing key; the store's errors otherwise."""
    bundles = bundles_under(store, key, prefix)
    objects = [
        info
        for info in store.list_objects(key, prefix)
        if not info.is_directory_marker and info.name not in bundles
    ]
    tally = _Tally()
    run_workers(lambda info: _survey_object(store, key, info, tally), objects, workers)
    for bundle in bundles:
        _survey_bundle(store, key, bundle, tally)
    return DicomSurvey(
        studies=_group(tally.headers),
        other=tuple(sorted(tally.other)),
        other_bytes=tally.other_bytes,
        bytes_total=tally.bytes_total,
        bytes_read=tally.bytes_read,
        requests=tally.requests,
    )


def _survey_object(store: ObjectStore, key: str, info: ObjectInfo, tally: _Tally) -> None:
    ranged = RangedFile(store, key, info.name, info.size)
    tally.add(info.name, info.size, read_header(cast(BinaryIO, ranged)))
    tally.cost(ranged)


def _survey_bundle(store: ObjectStore, key: str, bundle: str, tally: _Tally) -> None:
    """Each regular member's DICOM header, reached through the tar headers by range."""
    size = store.head_object(key, bundle).size
    ranged = RangedFile(store, key, bundle, size)
    area = top_area(bundle)
    try:
        with tarfile.open(fileobj=cast(IO[bytes], ranged), mode="r:") as tar:
            while (member := tar.next()) is not None:
                tar.members.clear()  # type: ignore[attr-defined]  # not kept: 200,000 entries
                if member.isreg():
                    view = ranged.view(member.offset_data, member.size)
                    tally.add(area + member.name, member.size, read_header(view))
    except (tarfile.TarError, EOFError) as exc:
        raise InvalidInput(f"swift://{key}/{bundle} is not a readable tar: {exc}") from None
    finally:
        tally.cost(ranged)


def _group(headers: list[tuple[SliceHeader, int]]) -> tuple[StudySummary, ...]:
    """Studies by UID, their series by number then UID."""
    by_series: dict[tuple[str, str], list[tuple[SliceHeader, int]]] = defaultdict(list)
    for header, size in headers:
        by_series[(header.study_uid, header.series_uid)].append((header, size))
    studies: dict[str, list[SeriesSummary]] = defaultdict(list)
    for (study_uid, series_uid), members in by_series.items():
        first = members[0][0]
        sizes = {f"{h.rows}x{h.columns}" for h, _ in members if h.rows and h.columns}
        studies[study_uid].append(
            SeriesSummary(
                series_uid=series_uid,
                series_number=first.series_number,
                modality=first.modality,
                files=len(members),
                bytes=sum(size for _, size in members),
                frames=sum(h.frames for h, _ in members),
                sizes=tuple(sorted(sizes)),
            )
        )
    return tuple(
        StudySummary(
            study_uid=uid,
            series=tuple(sorted(series, key=lambda s: (s.series_number or 0, s.series_uid))),
        )
        for uid, series in sorted(studies.items())
    )
