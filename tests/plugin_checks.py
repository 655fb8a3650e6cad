"""Checks of what the example plugin (pl-dicom-summary) wrote, against its inputs.

Shared by every test that runs the plugin (in-process, on the local backend, in a podman
job, through `radswift job run`): `check_plugin_outputs(inputdir, outputdir)` asserts
that every series' JSON holds the values pydicom reads from the inputs, that every
montage is a PNG of the announced size, that every link of index.html resolves, and that
no patient identifier or UID was written. (tests/ is on sys.path through its conftest.)
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut

TILE_SIZE, TILES = 256, 16  # the plugin's defaults


def check_plugin_outputs(inputdir: Path, outputdir: Path) -> dict[str, Any]:
    """All the checks below; returns index.json."""
    index: dict[str, Any] = json.loads((outputdir / "index.json").read_text())
    check_summaries(inputdir, outputdir, index)
    check_montages(outputdir, index)
    check_links(outputdir, index)
    check_no_identifiers(inputdir, outputdir)
    return index


def expected_series(inputdir: Path) -> dict[tuple[str, int, int, int], dict[str, Any]]:
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
        rows, columns = int(first.get("Rows") or 0), int(first.get("Columns") or 0)
        expected[(first.Modality, len(paths), rows, columns)] = {
            "first": first,
            "frames": frames,
            "bytes": sum(p.stat().st_size for p in paths),
            "range": (min(v[0] for v in values), max(v[1] for v in values)) if values else None,
        }
    return expected


def check_summaries(inputdir: Path, outputdir: Path, index: dict[str, Any]) -> None:
    expected = expected_series(inputdir)
    assert len(index["series"]) == len(expected)
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


def check_montages(outputdir: Path, index: dict[str, Any]) -> None:
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
        scale = min(1.0, TILE_SIZE / max(rows, columns))  # fitted in the tile, never enlarged
        assert (montage["tile_width"], montage["tile_height"]) == (
            max(1, round(columns * scale)), max(1, round(rows * scale)),
        )  # fmt: skip
        assert montage["tiles"] == min(summary["images"], TILES)
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


def check_links(outputdir: Path, index: dict[str, Any]) -> None:
    """Every link of index.html is relative and resolves; every series is linked."""
    links = _Links()
    links.feed((outputdir / "index.html").read_text())
    assert links.links
    for link in links.links:
        assert not re.match(r"^[a-z]+:|^/", link), f"{link} is not relative"
        assert (outputdir / link).is_file(), f"{link} does not resolve"
    for entry in index["series"]:
        assert entry["summary"] in links.links
        if entry["montage"]:
            assert entry["montage"] in links.links


def check_no_identifiers(inputdir: Path, outputdir: Path) -> None:
    """No name part, ID, birth date, accession number or UID of an input is written."""
    secrets = set()
    for path in inputdir.rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        for keyword in ("PatientName", "PatientID", "PatientBirthDate", "StudyInstanceUID",
                        "SeriesInstanceUID", "SOPInstanceUID", "AccessionNumber"):  # fmt: skip
            for part in re.split(r"[\^=]", str(ds.get(keyword, "") or "")):
                if len(part) >= 4:
                    secrets.add(part)
    assert secrets
    written = "".join(p.read_text() for p in outputdir.rglob("*") if p.suffix in (".json", ".html"))
    assert [s for s in secrets if s in written] == []
