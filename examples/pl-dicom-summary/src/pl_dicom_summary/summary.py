"""One series' summary.json: what it is and what its pixels hold, without who it is of.

Fields (null when the data does not say): modality, series_number, body_part_examined,
study_description and series_description (only when not identifying, see
`clean_description`), instances (files), frames, images (frames whose pixels were
read), rows, columns, sizes, photometric_interpretation, bits_stored, transfer_syntax,
pixel_spacing_mm [row, column], slice_thickness_mm, spacing_between_slices_mm (the
median step between slice positions along the normal), value_range {min, max, unit}
(after the modality LUT: HU for CT; Gy-scaled for an RT dose), bytes, montage.

Never written: names, IDs, birth dates, accession numbers, institution or physician
names, dates and times, UIDs.
"""

from __future__ import annotations

import itertools
import re
import statistics
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from pl_dicom_summary.montage import frame_indices, thumbnail
from pl_dicom_summary.scan import Series, Skipped, as_int, describe, read_dataset

IDENTIFYING = ("PatientName", "PatientID", "OtherPatientIDs", "PatientBirthDate",
               "AccessionNumber", "InstitutionName", "ReferringPhysicianName")  # fmt: skip
LONG_NUMBER = re.compile(r"\d{6,}")


@dataclass(slots=True)
class SeriesResult:
    """A series' summary (JSON-ready), its montage tiles, and the files skipped in it."""

    summary: dict[str, Any]
    tiles: list[Image.Image] = field(default_factory=list)
    invert: bool = False
    skipped: list[Skipped] = field(default_factory=list)


def clean_description(text: Any, ds: Any) -> str | None:
    """A free-text description, or None if it may identify someone: when it contains a
    name part, ID, birth date or accession number of this dataset, or a run of 6+
    digits (dates, record numbers)."""
    value = " ".join(str(text or "").split())
    if not value or LONG_NUMBER.search(value):
        return None
    lowered = value.lower()
    for keyword in IDENTIFYING:
        for part in re.split(r"[\^=\s\\]+", str(ds.get(keyword, "") or "")):
            if len(part) >= 3 and part.lower() in lowered:
                return None
    return value[:64]


def summarize(
    series: Series, rel: Callable[[Path], str], tiles: int, tile_size: int
) -> SeriesResult:
    """Read the series' pixels file by file; `rel(path)` names a file in messages."""
    first = read_dataset(series.instances[0].path, pixels=False)
    total = sum(i.frames for i in series.instances)
    wanted = set(frame_indices(total, tiles))
    stats = _Stats()
    invert = first.get("PhotometricInterpretation") == "MONOCHROME1"
    result = SeriesResult(summary={}, invert=invert)
    frame = 0
    for instance in series.instances:
        try:
            if instance.frames:
                frames = _frames(read_dataset(instance.path, pixels=True))
                thumbs = [
                    thumbnail(f, tile_size) for i, f in enumerate(frames) if frame + i in wanted
                ]
                stats.add(frames)
                result.tiles += thumbs
        except Exception as exc:  # broken or undecodable pixels: listed, never a crash
            reason = f"pixels unreadable: {describe(exc)}"
            result.skipped.append(Skipped(rel(instance.path), reason))
        frame += instance.frames
    result.summary = _fields(series, first, stats, total)
    return result


def _frames(ds: Any) -> Any:
    """The instance's frames, (frames, rows, columns[, 3]), in modality units for grey."""
    from pydicom.pixels import apply_color_lut, apply_modality_lut  # type: ignore[attr-defined]

    palette = ds.get("PhotometricInterpretation") == "PALETTE COLOR"
    grey = int(ds.get("SamplesPerPixel", 1)) == 1 and not palette
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pixels = ds.pixel_array
        if palette:
            pixels = apply_color_lut(pixels, ds)
        elif grey:
            pixels = apply_modality_lut(pixels, ds)
            scaling = ds.get("DoseGridScaling")
            if scaling is not None:
                pixels = pixels * float(scaling)
    return pixels[np.newaxis] if pixels.ndim == (2 if grey else 3) else pixels


@dataclass(slots=True)
class _Stats:
    """Running value range, image count and sizes over the series' frames."""

    low: float | None = None
    high: float | None = None
    images: int = 0
    sizes: set[str] = field(default_factory=set)

    def add(self, frames: Any) -> None:
        self.images += len(frames)
        self.sizes.add(f"{frames.shape[1]}x{frames.shape[2]}")
        low, high = float(frames.min()), float(frames.max())
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)


def _fields(series: Series, ds: Any, stats: _Stats, total: int) -> dict[str, Any]:
    spacing = ds.get("PixelSpacing")
    return {
        "study": f"study-{series.study_index}",
        "series": series.directory.rsplit("/", 1)[-1],
        "modality": str(ds.get("Modality", "") or "") or None,
        "series_number": as_int(ds.get("SeriesNumber")),
        "body_part_examined": clean_description(ds.get("BodyPartExamined"), ds),
        "study_description": clean_description(ds.get("StudyDescription"), ds),
        "series_description": clean_description(ds.get("SeriesDescription"), ds),
        "instances": len(series.instances),
        "frames": total,
        "images": stats.images,
        "rows": as_int(ds.get("Rows")),
        "columns": as_int(ds.get("Columns")),
        "sizes": sorted(stats.sizes),
        "photometric_interpretation": ds.get("PhotometricInterpretation"),
        "bits_stored": as_int(ds.get("BitsStored")),
        "transfer_syntax": _transfer_syntax(ds),
        "pixel_spacing_mm": [float(v) for v in spacing] if spacing else None,
        "slice_thickness_mm": _float(ds.get("SliceThickness")),
        "spacing_between_slices_mm": _slice_step(series),
        "value_range": None
        if stats.low is None
        else {"min": _round(stats.low), "max": _round(stats.high), "unit": _unit(ds)},
        "bytes": sum(i.size for i in series.instances),
        "montage": None,
    }


def _transfer_syntax(ds: Any) -> str | None:
    uid = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    return None if uid is None else str(uid.name)


def _unit(ds: Any) -> str | None:
    if ds.get("RescaleType"):
        return str(ds.RescaleType)
    if ds.get("Modality") == "CT" and "RescaleIntercept" in ds:
        return "HU"
    if ds.get("DoseGridScaling") is not None:
        return str(ds.get("DoseUnits") or "") or None
    return None


def _slice_step(series: Series) -> float | None:
    positions = [i.position for i in series.instances if i.position is not None]
    if len(positions) < 2 or len(positions) != len(series.instances):
        return None
    steps = [b - a for a, b in itertools.pairwise(positions)]
    return _round(statistics.median(steps))


def _float(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else _round(float(value))
    except (TypeError, ValueError):
        return None


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def as_json(result: SeriesResult) -> dict[str, Any]:
    """The summary with its montage info (a dataclass) as plain JSON values."""
    montage = result.summary.get("montage")
    return {**result.summary, "montage": asdict(montage) if montage is not None else None}
