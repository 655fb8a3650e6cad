"""Find every file under the input, read DICOM headers, group them by study and series.

Only headers are read here (`stop_before_pixels`), so grouping a study of thousands of
slices is quick; pixels are read series by series later (summary.py). A file that is
not DICOM, or whose header pydicom cannot parse, becomes a Skipped entry: never an
exception out of the plugin.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOT_DICOM = "not a DICOM file (no DICM preamble)"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file left out, with why (relative to the input directory)."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Instance:
    """One DICOM file: where it is and where it goes in its series."""

    path: Path
    study_uid: str
    series_uid: str
    modality: str
    series_number: int | None
    instance_number: int | None
    position: float | None
    """Distance along the slice normal (ImagePositionPatient . normal), for ordering."""
    frames: int
    """Frames of pixel data (0 for a file without pixels, such as an RT plan)."""
    size: int


@dataclass(slots=True, kw_only=True)
class Series:
    """The instances of one series in display order, and its place in the output."""

    study_index: int
    series_index: int
    instances: list[Instance]

    @property
    def directory(self) -> str:
        """`study-1/series-02-CT`: ordinal numbers, never a UID (UIDs can identify)."""
        modality = "".join(c for c in self.instances[0].modality if c.isalnum()) or "OT"
        return f"study-{self.study_index}/series-{self.series_index:02d}-{modality}"


@dataclass(slots=True)
class Scan:
    series: list[Series] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0


def read_dataset(path: Path, *, pixels: bool) -> Any:
    """pydicom's dataset of `path` (warnings about odd but readable data silenced)."""
    from pydicom import dcmread

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dcmread(path, stop_before_pixels=not pixels)


def scan(inputdir: Path) -> Scan:
    """Every regular file under `inputdir`, its DICOM headers grouped into series."""
    from pydicom.errors import InvalidDicomError

    result = Scan()
    instances: list[Instance] = []
    for path in sorted(p for p in inputdir.rglob("*") if p.is_file()):
        result.files += 1
        rel = path.relative_to(inputdir).as_posix()
        try:
            instances.append(_instance(path, read_dataset(path, pixels=False)))
        except InvalidDicomError:
            result.skipped.append(Skipped(rel, NOT_DICOM))
        except OSError as exc:
            result.skipped.append(Skipped(rel, f"unreadable file: {exc.strerror or describe(exc)}"))
        except Exception as exc:  # a broken header of any kind: listed, never a crash
            result.skipped.append(Skipped(rel, f"unreadable DICOM header: {describe(exc)}"))
    result.series = group(instances)
    return result


def describe(exc: BaseException) -> str:
    """An exception in one short line (its type and the start of its message)."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message[:160]}" if message else type(exc).__name__


class MissingUids(ValueError):
    """A header that parses but names no study or series (truncated, or not an instance)."""


def _instance(path: Path, ds: Any) -> Instance:
    if not ds.get("StudyInstanceUID") or not ds.get("SeriesInstanceUID"):
        raise MissingUids("no StudyInstanceUID or SeriesInstanceUID (truncated header?)")
    has_pixels = "Rows" in ds and "Columns" in ds
    return Instance(
        path=path,
        study_uid=str(ds.get("StudyInstanceUID", "") or ""),
        series_uid=str(ds.get("SeriesInstanceUID", "") or ""),
        modality=str(ds.get("Modality", "") or ""),
        series_number=as_int(ds.get("SeriesNumber")),
        instance_number=as_int(ds.get("InstanceNumber")),
        position=_position(ds),
        frames=max(as_int(ds.get("NumberOfFrames")) or 1, 1) if has_pixels else 0,
        size=path.stat().st_size,
    )


def as_int(value: Any) -> int | None:
    """An IS/US value as int; None when absent, empty or malformed (e.g. IS '1A')."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _position(ds: Any) -> float | None:
    """Where the slice lies along its normal, from ImagePosition/OrientationPatient."""
    try:
        ipp = [float(v) for v in ds.ImagePositionPatient]
        iop = [float(v) for v in ds.ImageOrientationPatient]
    except (AttributeError, TypeError, ValueError):
        return None
    if len(ipp) != 3 or len(iop) != 6:
        return None
    row, col = iop[:3], iop[3:]
    normal = (
        row[1] * col[2] - row[2] * col[1],
        row[2] * col[0] - row[0] * col[2],
        row[0] * col[1] - row[1] * col[0],
    )
    return sum(p * n for p, n in zip(ipp, normal, strict=True))


def group(instances: list[Instance]) -> list[Series]:
    """Studies ordered by UID, their series by number then UID, slices in display order."""
    by_study: dict[str, dict[str, list[Instance]]] = defaultdict(lambda: defaultdict(list))
    for instance in instances:
        by_study[instance.study_uid][instance.series_uid].append(instance)
    result = []
    for study_index, study_uid in enumerate(sorted(by_study), start=1):
        members = by_study[study_uid]
        order = sorted(members, key=lambda uid: (members[uid][0].series_number or 0, uid))
        for series_index, series_uid in enumerate(order, start=1):
            ordered = sorted(members[series_uid], key=_slice_order(members[series_uid]))
            result.append(Series(study_index=study_index, series_index=series_index,
                                 instances=ordered))  # fmt: skip
    return result


def _slice_order(instances: list[Instance]) -> Any:
    """By position along the normal when every slice has one, else by instance number."""
    if all(i.position is not None for i in instances):
        return lambda i: (i.position, i.instance_number or 0, i.path)
    return lambda i: (i.instance_number or 0, i.path)
