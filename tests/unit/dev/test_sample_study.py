"""The demo's sample study: a synthetic CT series plus the DICOM files inside the pydicom wheel."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from radswift.dev.samples import PYDICOM_DIR, PYDICOM_SAMPLES, SYNTHETIC_DIR, build_sample_study


def test_the_sample_study_holds_the_synthetic_series_the_pydicom_files_and_one_non_dicom_file(
    tmp_path: Path,
) -> None:
    study = build_sample_study(tmp_path / "study", slices=5, rows=64, columns=64)
    synthetic = sorted((tmp_path / "study" / SYNTHETIC_DIR).iterdir())
    assert len(synthetic) == 5
    first = pydicom.dcmread(synthetic[0])
    assert (first.Modality, first.Rows, first.Columns) == ("CT", 64, 64)
    assert first.SeriesDescription == "Synthetic CT"
    for name in PYDICOM_SAMPLES:
        copied = tmp_path / "study" / PYDICOM_DIR / name
        original = get_testdata_file(name, download=False)
        assert isinstance(original, str)
        assert copied.read_bytes() == Path(original).read_bytes()
    assert study.files == 5 + len(PYDICOM_SAMPLES) + 1
    assert study.dicom_files == 5 + len(PYDICOM_SAMPLES)
    assert study.bytes == sum(p.stat().st_size for p in (tmp_path / "study").rglob("*.*"))
    # synthetic CT, CT_small, MR_small (+ its truncated copy), overlay MR, US, RT dose, RT plan
    assert study.series == 7
    with pytest.raises(pydicom.errors.InvalidDicomError):
        pydicom.dcmread(tmp_path / "study" / "README.txt")


def test_every_sample_ships_inside_the_pydicom_wheel_so_the_demo_works_offline() -> None:
    for name in PYDICOM_SAMPLES:
        path = get_testdata_file(name, download=False)
        assert isinstance(path, str), name
        assert "/pydicom/data/test_files/" in path.replace("\\", "/"), path
