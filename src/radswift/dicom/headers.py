"""One DICOM file's header, read up to the pixel data and no further.

pydicom parses the file with `stop_before_pixels`: it reads the preamble, the file meta
group and the data set up to the Pixel Data element's tag, then stops, so a reader that
fetches on demand (radswift.store.ranged.RangedFile) only ever fetches the header.
Only what a listing needs is kept, and nothing that names the patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from radswift.errors import RadswiftError

NOT_DICOM = "not DICOM"
NO_UIDS = "DICOM header without study or series UID (truncated, or not an instance)"


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceHeader:
    """What one file's header says about its place in a study (no patient identifiers)."""

    study_uid: str
    series_uid: str
    modality: str
    series_number: int | None
    rows: int | None
    columns: int | None
    frames: int
    """Number of Frames (1 for a single-frame image, 0 for a file without pixels)."""


def read_header(fp: BinaryIO) -> SliceHeader | str:
    """The header of the DICOM file `fp`, or why it is not one (a short reason).

    Files without the DICM preamble are not DICOM here (as for pydicom without force)."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    try:
        ds = dcmread(fp, stop_before_pixels=True)
    except InvalidDicomError:
        return NOT_DICOM
    except RadswiftError:
        raise  # the store failed: not a fact about this file
    except Exception as exc:  # pydicom on hostile bytes: any error is "unreadable", no crash
        return f"unreadable DICOM header ({type(exc).__name__})"
    study_uid = str(ds.get("StudyInstanceUID", "") or "")
    series_uid = str(ds.get("SeriesInstanceUID", "") or "")
    if not study_uid or not series_uid:  # pydicom is lenient: garbage after DICM parses
        return NO_UIDS
    has_pixels = "Rows" in ds and "Columns" in ds
    return SliceHeader(
        study_uid=study_uid,
        series_uid=series_uid,
        modality=str(ds.get("Modality", "") or ""),
        series_number=_int(ds.get("SeriesNumber")),
        rows=_int(ds.get("Rows")),
        columns=_int(ds.get("Columns")),
        frames=max(_int(ds.get("NumberOfFrames")) or 1, 1) if has_pixels else 0,
    )


def _int(value: object) -> int | None:
    """An integer element's value, None when absent, empty or malformed (e.g. IS '1A')."""
    if value is None or value == "":
        return None
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None
