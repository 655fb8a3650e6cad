"""The example ChRIS plugin pl-dicom-summary (examples/pl-dicom-summary), run on real DICOM.

Inputs are the demo's sample study (a synthetic CT series plus the DICOM files inside
the pydicom wheel) and hand-broken files; every value the plugin writes is checked
against what pydicom itself reads from the inputs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from plugin_checks import check_links, check_montages, check_no_identifiers, check_summaries
from radswift.dev.samples import build_sample_study

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


def test_every_series_is_summarized_with_the_values_pydicom_reads(
    sample: tuple[Path, Path, dict[str, Any]],
) -> None:
    inputdir, outputdir, index = sample
    assert len(index["series"]) == 7
    check_summaries(inputdir, outputdir, index)


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
    check_montages(outputdir, index)


def test_index_html_links_every_series_relatively_and_every_link_resolves(
    sample: tuple[Path, Path, dict[str, Any]],
) -> None:
    _, outputdir, index = sample
    check_links(outputdir, index)


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
    names = {str(pydicom.dcmread(p, stop_before_pixels=True).PatientName)
             for p in inputdir.rglob("*.dcm")}  # fmt: skip
    assert "Phantom^Radswift" in names  # what must not leak is there to leak
    check_no_identifiers(inputdir, outputdir)


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


def test_chris_plugin_info_describes_it_as_a_ds_plugin_with_its_parameters() -> None:
    """ChRIS registers a plugin from this JSON (chris-plugin's own tool), so it must work."""
    bindir = str(Path(sys.executable).parent)
    done = subprocess.run(
        [str(Path(bindir) / "chris_plugin_info"), "--dock-image",
         "docker.io/fnndsc/pl-dicom-summary:1.0.0", "pl-dicom-summary"],
        env={"PATH": bindir, "HOME": "/tmp"}, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert (info["type"], info["selfexec"], info["title"]) == (
        "ds", "pl_dicom_summary", "DICOM study summary",
    )  # fmt: skip
    assert {p["flag"]: p["default"] for p in info["parameters"]} == {
        "--tiles": 16, "--tile-size": 256,
    }  # fmt: skip
