"""The demo plugin (`python -m radswift.dev.demo.plugin INPUTDIR OUTPUTDIR`) on small series.

Expected numbers are recomputed here from the raw pixel bytes, voxel by voxel, so that
the plugin's sorted/bisected shortcuts are checked against the plain definition.
"""

from __future__ import annotations

import csv
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from radswift.dev.demo.plugin import main
from radswift.dev.samples import write_ct_series

SLICES, ROWS, COLUMNS = 4, 24, 20


@pytest.fixture
def series(tmp_path: Path) -> Path:
    write_ct_series(tmp_path / "in" / "series", slices=SLICES, rows=ROWS, columns=COLUMNS)
    return tmp_path / "in"


def expected_hu(path: Path) -> list[float]:
    """Every voxel's HU, the slow obvious way: 12 stored bits, slope and intercept."""
    ds = pydicom.dcmread(path)
    raw = struct.unpack(f"<{ROWS * COLUMNS}H", ds.PixelData)
    mask = (1 << int(ds.BitsStored)) - 1
    return [(v & mask) * float(ds.RescaleSlope) + float(ds.RescaleIntercept) for v in raw]


def test_it_summarizes_the_series_into_summary_json_and_slices_csv(
    series: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert main([str(series), str(out)]) == 0

    summary = json.loads((out / "summary.json").read_text())
    files = sorted((series / "series").iterdir())
    first = pydicom.dcmread(files[0])
    assert summary["series_instance_uid"] == first.SeriesInstanceUID
    assert (summary["slices"], summary["rows"], summary["columns"]) == (SLICES, ROWS, COLUMNS)
    per_file = [expected_hu(f) for f in files]
    above = [sum(1 for hu in values if hu > -500) for values in per_file]
    assert summary["volume_voxels"] == sum(above) > 0
    assert summary["volume_ml"] == pytest.approx(sum(above) * 0.7 * 0.7 * 1.0 / 1000, abs=0.01)
    for row, values, count in zip(summary["per_slice"], per_file, above, strict=True):
        assert row["min_hu"] == min(values) and row["max_hu"] == max(values)
        assert row["mean_hu"] == pytest.approx(sum(values) / len(values), abs=0.01)
        assert row["voxels_above"] == count
    assert [r["file"] for r in summary["per_slice"]] == [f"series/{f.name}" for f in files]

    with (out / "slices.csv").open(newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert [int(line["voxels_above"]) for line in lines] == above
    assert [line["file"] for line in lines] == [r["file"] for r in summary["per_slice"]]


def test_a_higher_threshold_counts_fewer_voxels(series: Path, tmp_path: Path) -> None:
    assert main([str(series), str(tmp_path / "a")]) == 0
    assert main([str(series), str(tmp_path / "b"), "--threshold", "1000"]) == 0
    low = json.loads((tmp_path / "a" / "summary.json").read_text())["volume_voxels"]
    high = json.loads((tmp_path / "b" / "summary.json").read_text())["volume_voxels"]
    assert high < low


def test_a_non_dicom_file_fails_clearly_and_writes_nothing(
    series: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (series / "series" / "notes.txt").write_text("not an image\n")
    out = tmp_path / "out"
    assert main([str(series), str(out)]) == 1
    assert "series/notes.txt is not a DICOM file" in capsys.readouterr().err
    assert not (out / "summary.json").exists()


def test_an_empty_input_and_two_series_are_refused(
    series: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), str(tmp_path / "out")]) == 1
    assert "no files" in capsys.readouterr().err
    write_ct_series(series / "other", slices=2, rows=ROWS, columns=COLUMNS)
    assert main([str(series), str(tmp_path / "out")]) == 1
    assert "2 series found" in capsys.readouterr().err


def test_it_runs_as_a_module_the_way_a_job_starts_it(series: Path, tmp_path: Path) -> None:
    shutil.copytree(series, tmp_path / "incoming")
    argv = [sys.executable, "-m", "radswift.dev.demo.plugin", "incoming", "outgoing"]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"{SLICES} slices of {ROWS}x{COLUMNS}" in done.stdout
    assert (tmp_path / "outgoing" / "summary.json").is_file()
