"""The example ChRIS plugin pl-dicom-summary (examples/pl-dicom-summary), run on real DICOM.

Inputs are the demo's sample study (a synthetic CT series plus the DICOM files inside
the pydicom wheel) and hand-broken files; every value the plugin writes is checked
against what pydicom itself reads from the inputs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut

from radswift.samples import build_sample_study

try:
    from pl_dicom_summary.__main__ import main, parser
    from pl_dicom_summary.summary import clean_description
except ModuleNotFoundError as missing:  # a failure, not a skip: CI must run these
    raise ModuleNotFoundError(
        f"{missing}: install the example plugin, pip install -e examples/pl-dicom-summary"
        " (./run does)"
    ) from None

SLICES = 10


def run_plugin(inputdir: Path, outputdir: Path, *args: str) -> dict[str, Any]:
    """Call the plugin's main as chris-plugin documents for tests: (options, in, out)."""
    options = parser.parse_args(list(args))
    assert main(options, inputdir, outputdir) == 0
    return json.loads((outputdir / "index.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("plugin")
    study = build_sample_study(root / "in", slices=SLICES, rows=96, columns=80)
    return study.directory, root / "out", run_plugin(study.directory, root / "out")


def _expected(inputdir: Path) -> dict[tuple[str, int, int, int], dict[str, Any]]:
    """What pydicom reads, per series, keyed by (modality, files, rows, columns)."""
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(inputdir.rglob("*.dcm")):
        groups[pydicom.dcmread(path, stop_before_pixels=True).SeriesInstanceUID].append(path)
    expected = {}
    for paths in groups.values():
        first = pydicom.dcmread(paths[0], stop_before_pixels=True)
        values, frames = [], 0
        for path in paths:
            ds = pydicom.dcmread(path)
            if "PixelData" not in ds:
                continue
            frames += int(ds.get("NumberOfFrames") or 1)
            try:
                pixels = ds.pixel_array
            except ValueError:  # MR_truncated.dcm: its pixel data is cut short
                continue
            if ds.SamplesPerPixel == 1:
                pixels = apply_modality_lut(pixels, ds) * float(ds.get("DoseGridScaling", 1))
            values.append((float(np.min(pixels)), float(np.max(pixels))))
        key = (
            first.Modality,
            len(paths),
            int(first.get("Rows") or 0),
            int(first.get("Columns") or 0),
        )
        expected[key] = {
            "first": first,
            "frames": frames,
            "bytes": sum(p.stat().st_size for p in paths),
            "range": (min(v[0] for v in values), max(v[1] for v in values)) if values else None,
        }
    return expected


def test_every_series_is_summarized_with_the_values_pydicom_reads(
    sample: tuple[Path, Path, dict[str, Any]],
) -> None:
    inputdir, outputdir, index = sample
    expected = _expected(inputdir)
    assert len(index["series"]) == len(expected) == 7
    for entry in index["series"]:
        summary = json.loads((outputdir / entry["summary"]).read_text())
        key = (summary["modality"], summary["instances"], summary["rows"] or 0,
               summary["columns"] or 0)  # fmt: skip
        want = expected.pop(key)
        first: Dataset = want["first"]
        assert summary["series_number"] == int(first.SeriesNumber)
        assert summary["frames"] == want["frames"]
        assert summary["bytes"] == want["bytes"]
        spacing = first.get("PixelSpacing")
        assert summary["pixel_spacing_mm"] == ([float(v) for v in spacing] if spacing else None)
        thickness = first.get("SliceThickness")
        assert summary["slice_thickness_mm"] == (float(thickness) if thickness else None)
        if want["range"] is None:
            assert summary["value_range"] is None and summary["montage"] is None
        else:
            got = summary["value_range"]
            assert (got["min"], got["max"]) == pytest.approx(want["range"], abs=1e-3)
    assert expected == {}


def test_the_synthetic_ct_series_is_described_in_hounsfield_units_and_slice_spacing(
    sample: tuple[Path, Path, dict[str, Any]],
) -> None:
    _, outputdir, index = sample
    (ct,) = [
        json.loads((outputdir / e["summary"]).read_text())
        for e in index["series"]
        if e["modality"] == "CT" and e["instances"] == SLICES
    ]
    assert (ct["rows"], ct["columns"], ct["sizes"]) == (96, 80, ["96x80"])
    assert ct["value_range"]["unit"] == "HU"
    assert ct["spacing_between_slices_mm"] == 1.0  # ImagePositionPatient z steps by 1
    assert ct["series_description"] == "Synthetic CT"
    assert ct["images"] == SLICES


def test_each_montage_is_a_png_of_the_announced_grid_of_tiles(
    sample: tuple[Path, Path, dict[str, Any]],
) -> None:
    _, outputdir, index = sample
    for entry in index["series"]:
        summary = json.loads((outputdir / entry["summary"]).read_text())
        montage = summary["montage"]
        if montage is None:
            assert entry["montage"] is None and summary["images"] == 0
            continue
        with Image.open(outputdir / entry["montage"]) as image:
            assert image.format == "PNG"
            assert image.size == (montage["width"], montage["height"])
        rows, columns = summary["rows"], summary["columns"]
        scale = min(1.0, 256 / max(rows, columns))  # fitted in 256 x 256, never enlarged
        assert (montage["tile_width"], montage["tile_height"]) == (
            max(1, round(columns * scale)), max(1, round(rows * scale)),
        )  # fmt: skip
        assert montage["tiles"] == min(summary["images"], 16)
        grid_columns, grid_rows = montage["grid"]
        assert grid_columns * grid_rows >= montage["tiles"] > grid_columns * (grid_rows - 1)
        assert montage["width"] == grid_columns * montage["tile_width"]
        assert montage["height"] == grid_rows * montage["tile_height"]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [v for k, v in attrs if k in ("href", "src") and v]


def test_index_html_links_every_series_relatively_and_every_link_resolves(
    sample: tuple[Path, Path, dict[str, Any]],
) -> None:
    _, outputdir, index = sample
    page = (outputdir / "index.html").read_text()
    links = _Links()
    links.feed(page)
    assert links.links
    for link in links.links:
        assert not re.match(r"^[a-z]+:|^/", link), f"{link} is not relative"
        assert (outputdir / link).is_file(), f"{link} does not resolve"
    for entry in index["series"]:
        assert entry["summary"] in links.links
        if entry["montage"]:
            assert entry["montage"] in links.links


def test_non_dicom_and_broken_files_are_listed_and_skipped(
    sample: tuple[Path, Path, dict[str, Any]],
) -> None:
    _, outputdir, index = sample
    skipped = {s["path"]: s["reason"] for s in index["skipped"]}
    assert skipped["README.txt"].startswith("not a DICOM file")
    assert skipped["pydicom-samples/MR_truncated.dcm"].startswith("pixels unreadable")
    page = (outputdir / "index.html").read_text()
    assert "README.txt" in page and "MR_truncated.dcm" in page
    assert index["files"] == SLICES + 7 + 1 and index["dicom_files"] == SLICES + 7


def test_no_patient_identifier_or_uid_is_written(
    sample: tuple[Path, Path, dict[str, Any]],
) -> None:
    inputdir, outputdir, _ = sample
    secrets = set()
    for path in inputdir.rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        for keyword in ("PatientName", "PatientID", "PatientBirthDate", "StudyInstanceUID",
                        "SeriesInstanceUID", "SOPInstanceUID", "AccessionNumber"):  # fmt: skip
            for part in re.split(r"[\^=]", str(ds.get(keyword, "") or "")):
                if len(part) >= 4:
                    secrets.add(part)
    assert "Phantom" in secrets and "CompressedSamples" in secrets  # the test sees them
    written = "".join(p.read_text() for p in outputdir.rglob("*") if p.suffix in (".json", ".html"))
    assert [s for s in secrets if s in written] == []


def test_hostile_inputs_never_crash_the_plugin(tmp_path: Path) -> None:
    ct = Path(str(get_testdata_file("CT_small.dcm", download=False))).read_bytes()
    inputdir = tmp_path / "in"
    (inputdir / "deep" / "er").mkdir(parents=True)
    (inputdir / "empty.dcm").write_bytes(b"")
    (inputdir / "garbage.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 300)
    (inputdir / "header-cut.dcm").write_bytes(ct[:400])
    (inputdir / "deep" / "er" / "pixels-cut.dcm").write_bytes(ct[:-5000])
    (inputdir / "deep" / "ok.dcm").write_bytes(ct)
    (inputdir / "notes.txt").write_text("hello")
    index = run_plugin(inputdir, tmp_path / "out")
    reasons = {s["path"]: s["reason"] for s in index["skipped"]}
    assert set(reasons) == {"empty.dcm", "garbage.dcm", "header-cut.dcm",
                            "deep/er/pixels-cut.dcm", "notes.txt"}  # fmt: skip
    assert reasons["notes.txt"].startswith("not a DICOM file")
    assert reasons["deep/er/pixels-cut.dcm"].startswith("pixels unreadable")
    (series,) = index["series"]
    summary = json.loads((tmp_path / "out" / series["summary"]).read_text())
    assert (summary["modality"], summary["images"]) == ("CT", 1)


def test_an_input_without_dicom_gives_a_page_that_says_so(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("a")
    index = run_plugin(tmp_path / "in", tmp_path / "out")
    assert index["series"] == [] and index["dicom_files"] == 0
    assert "No DICOM series was found" in (tmp_path / "out" / "index.html").read_text()


def test_descriptions_that_may_identify_someone_are_left_out() -> None:
    ds = Dataset()
    ds.PatientName, ds.PatientID = "Doe^Jane", "MRN-4471"
    assert clean_description("CHEST  W/O contrast", ds) == "CHEST W/O contrast"
    assert clean_description("Jane's follow-up", ds) is None
    assert clean_description("scan for MRN-4471", ds) is None
    assert clean_description("study 20240105", ds) is None  # a date or record number
    assert clean_description("", ds) is None


def test_the_plugin_runs_as_a_command_of_the_venv_with_chris_arguments(tmp_path: Path) -> None:
    """What the local backend runs: `python -m pl_dicom_summary IN OUT`, ChRIS flags too."""
    build_sample_study(tmp_path / "in", slices=3, rows=32, columns=32)
    done = subprocess.run(
        [sys.executable, "-m", "pl_dicom_summary", "--saveinputmeta", "--tiles", "4",
         str(tmp_path / "in"), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "7 series summarized" in done.stdout
    assert (tmp_path / "out" / "index.html").is_file()
    script = Path(sys.executable).with_name("pl_dicom_summary")
    version = subprocess.run([str(script), "--version"], capture_output=True, check=False)
    assert version.returncode == 0
