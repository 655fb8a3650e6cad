"""Synthetic sample studies: a CT series written as real DICOM files with pydicom.

Used by the demo (`radswift dev demo`), the tests and the benchmarks, so that nobody needs
patient data to try radswift. `build_sample_study` adds to such a series a handful of
real DICOM files that ship inside the pydicom wheel (CT, MR, ultrasound, an RT dose, an
RT plan, a truncated file) and one non-DICOM file: the variety a plugin meets.

The pixel data is a disk phantom whose radius changes along the series, with quantum
noise in every pixel (the low 6 bits random, about +-30 HU): like real CT it deflates
to roughly half, not to nothing, so benchmarks of tools that zip (pfurl) measure what
they would on patient data.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def write_ct_series(
    directory: Path,
    *,
    slices: int = 100,
    rows: int = 512,
    columns: int = 512,
    patient_name: str = "Phantom^Radswift",
    series_description: str | None = None,
) -> list[Path]:
    """Write `slices` CT slices (uint16, rows x columns) as DICOM files; return their paths."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

    directory.mkdir(parents=True, exist_ok=True)
    study_uid, series_uid, frame_uid = generate_uid(), generate_uid(), generate_uid()
    paths = []
    for index in range(slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = UID(CT_IMAGE_STORAGE)
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        path = directory / f"slice-{index + 1:05d}.dcm"
        ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = CT_IMAGE_STORAGE
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
        ds.FrameOfReferenceUID = frame_uid
        ds.PatientName, ds.PatientID = patient_name, "RADSWIFT-0001"
        ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 1, index + 1
        if series_description is not None:
            ds.SeriesDescription = series_description
        ds.SliceThickness, ds.PixelSpacing = 1.0, [0.7, 0.7]
        ds.ImagePositionPatient = [0.0, 0.0, float(index)]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.Rows, ds.Columns = rows, columns
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = _phantom_slice(index, slices, rows, columns)
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _phantom_slice(index: int, slices: int, rows: int, columns: int) -> bytes:
    """A disk of soft-tissue value on air, radius varying with z, noise in every pixel."""
    z = (index + 0.5) / max(slices, 1) - 0.5
    radius = 0.45 * min(rows, columns) * math.sqrt(max(0.0, 1.0 - (2 * z) ** 2))
    air, tissue = (24).to_bytes(2, "little"), (1064).to_bytes(2, "little")
    cy, cx = rows / 2, columns / 2
    base = bytearray()
    for y in range(rows):
        dy = y + 0.5 - cy
        half = math.sqrt(radius * radius - dy * dy) if abs(dy) < radius else 0.0
        left = max(0, int(cx - half))
        right = min(columns, int(cx + half))
        base += air * left + tissue * (right - left) + air * (columns - right)
    # Add 6 random bits to every uint16 pixel at once: as one big integer, with no carry
    # between pixels (values stay below 2**12).
    size = len(base)
    noise = int.from_bytes(os.urandom(size), "little") & _noise_mask(size)
    return (int.from_bytes(base, "little") + noise).to_bytes(size, "little")


_MASKS: dict[int, int] = {}


def _noise_mask(size: int) -> int:
    if size not in _MASKS:
        _MASKS[size] = int.from_bytes(b"\x3f\x00" * (size // 2), "little")
    return _MASKS[size]


PYDICOM_SAMPLES = (
    "CT_small.dcm",  # CT 128 x 128, explicit VR little endian
    "MR_small.dcm",  # MR 64 x 64
    "MR_truncated.dcm",  # the same MR series, its pixel data cut short: a broken file
    "examples_overlay.dcm",  # MR 484 x 300 with study and series descriptions
    "examples_rgb_color.dcm",  # ultrasound, RGB 320 x 240
    "rtdose.dcm",  # RT dose: 15 frames of 10 x 10 in one file
    "rtplan.dcm",  # RT plan: DICOM without pixels
)
"""Test files inside the pydicom wheel (never the ones pydicom downloads on demand)."""

SAMPLE_README = "README.txt"
SYNTHETIC_DIR = "synthetic-ct"
PYDICOM_DIR = "pydicom-samples"


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleStudy:
    """What build_sample_study wrote."""

    directory: Path
    files: int
    bytes: int
    dicom_files: int
    series: int
    """Distinct series (by SeriesInstanceUID) among the DICOM files."""
    synthetic_slices: int
    pydicom_files: tuple[str, ...]


def build_sample_study(
    directory: Path, *, slices: int = 48, rows: int = 512, columns: int = 512
) -> SampleStudy:
    """Write the demo's sample study into `directory` (made if missing); works offline.

    `synthetic-ct/`: a synthetic CT series (write_ct_series); `pydicom-samples/`: the
    PYDICOM_SAMPLES copied from the installed pydicom; `README.txt`: not DICOM."""
    from pydicom import dcmread
    from pydicom.data import get_testdata_file

    directory.mkdir(parents=True, exist_ok=True)
    write_ct_series(
        directory / SYNTHETIC_DIR, slices=slices, rows=rows, columns=columns,
        series_description="Synthetic CT",
    )  # fmt: skip
    samples = directory / PYDICOM_DIR
    samples.mkdir(exist_ok=True)
    for name in PYDICOM_SAMPLES:
        source = get_testdata_file(name, download=False)
        if not isinstance(source, str):
            raise FileNotFoundError(f"pydicom's test file {name} is not installed")
        shutil.copyfile(source, samples / name)
    (directory / SAMPLE_README).write_text(
        "A sample study made by radswift.dev.samples.build_sample_study: a synthetic CT series\n"
        "and test files that ship with pydicom. This file is not DICOM.\n",
        encoding="utf-8",
    )
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    series = set()
    for path in files:
        if path.suffix == ".dcm":
            series.add(str(dcmread(path, stop_before_pixels=True).SeriesInstanceUID))
    return SampleStudy(
        directory=directory,
        files=len(files),
        bytes=sum(p.stat().st_size for p in files),
        dicom_files=sum(1 for p in files if p.suffix == ".dcm"),
        series=len(series),
        synthetic_slices=slices,
        pydicom_files=PYDICOM_SAMPLES,
    )
