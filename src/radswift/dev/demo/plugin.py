"""`python -m radswift.dev.demo.plugin INPUTDIR OUTPUTDIR`: summarize one CT series.

A ChRIS-style "ds" plugin (data in, data out: `inputdir outputdir`), the processor of
`radswift dev demo`. It reads every file under INPUTDIR as DICOM (pydicom), and writes:

    OUTPUTDIR/summary.json   the series UID, slice count, rows/columns, the series' HU
                             range and mean, the phantom's volume (voxels above the
                             threshold, default -500 HU, and mL when the spacing is
                             known) and per-slice min/max/mean HU
    OUTPUTDIR/slices.csv     one line per slice: the same per-slice numbers

Pixels are read in pure Python (radswift.dev.demo.ctstats): 16-bit, one sample per pixel,
uncompressed transfer syntaxes only. Exit codes: 0 done; 1 the input is not what the
plugin reads (a non-DICOM file, no files, several series, compressed pixels), with the
reason on stderr; 2 bad arguments.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radswift.dev.demo.ctstats import SliceStats, raw_values, slice_stats
from radswift.errors import InvalidInput

DEFAULT_THRESHOLD_HU = -500.0
SUMMARY_NAME = "summary.json"
SLICES_NAME = "slices.csv"
CSV_FIELDS = ("file", "instance", "z", "min_hu", "max_hu", "mean_hu", "voxels_above")
PROG = "radswift-demo-plugin"


@dataclass(frozen=True, slots=True)
class Slice:
    """One DICOM slice: where it sits in the series and its statistics."""

    file: str
    series_uid: str
    rows: int
    columns: int
    instance: int | None
    z: float | None
    voxel_ml: float | None
    stats: SliceStats

    def row(self) -> dict[str, Any]:
        s = self.stats
        return {
            "file": self.file, "instance": self.instance, "z": self.z,
            "min_hu": round(s.min_hu, 2), "max_hu": round(s.max_hu, 2),
            "mean_hu": round(s.mean_hu, 2), "voxels_above": s.voxels_above,
        }  # fmt: skip


def read_slice(path: Path, name: str, threshold_hu: float) -> Slice:
    """Read one file as a CT slice; InvalidInput if it is not one the plugin can read."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    try:
        ds = dcmread(path)
    except (InvalidDicomError, EOFError, ValueError) as err:
        raise InvalidInput(f"{name} is not a DICOM file ({err})") from None
    if "PixelData" not in ds:
        raise InvalidInput(f"{name} has no pixel data")
    syntax = ds.file_meta.get("TransferSyntaxUID")
    if syntax is not None and syntax.is_compressed:
        raise InvalidInput(f"{name}: compressed pixel data ({syntax.name}) is not supported")
    if int(ds.get("BitsAllocated", 0)) != 16 or int(ds.get("SamplesPerPixel", 1)) != 1:
        raise InvalidInput(f"{name}: only 16-bit, single-sample pixels are supported")
    rows, columns = int(ds.Rows), int(ds.Columns)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    values = raw_values(
        ds.PixelData,
        signed=int(ds.get("PixelRepresentation", 0)) == 1,
        little_endian=syntax is None or syntax.is_little_endian,
        count=rows * columns * frames,
        bits_stored=int(ds.get("BitsStored", 16)),
    )
    stats = slice_stats(
        values,
        slope=float(ds.get("RescaleSlope", 1)),
        intercept=float(ds.get("RescaleIntercept", 0)),
        threshold_hu=threshold_hu,
    )
    position = ds.get("ImagePositionPatient")
    return Slice(
        file=name,
        series_uid=str(ds.get("SeriesInstanceUID", "")),
        rows=rows,
        columns=columns,
        instance=int(ds.InstanceNumber) if "InstanceNumber" in ds else None,
        z=float(position[2]) if position else None,
        voxel_ml=_voxel_ml(ds),
        stats=stats,
    )


def _voxel_ml(ds: Any) -> float | None:
    spacing, thickness = ds.get("PixelSpacing"), ds.get("SliceThickness")
    if not spacing or not thickness:
        return None
    return float(spacing[0]) * float(spacing[1]) * float(thickness) / 1000.0  # mm^3 -> mL


def read_series(inputdir: Path, threshold_hu: float) -> list[Slice]:
    """Every file under `inputdir` (hidden ones aside), as one series ordered along z."""
    files = sorted(
        p for p in inputdir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(inputdir).parts)
    )  # fmt: skip
    if not files:
        raise InvalidInput(f"no files in {inputdir}")
    slices = [read_slice(p, p.relative_to(inputdir).as_posix(), threshold_hu) for p in files]
    series = {s.series_uid for s in slices}
    if len(series) > 1:
        raise InvalidInput(f"{len(series)} series found; the plugin summarizes one series")
    if len({(s.rows, s.columns) for s in slices}) > 1:
        raise InvalidInput("the slices of the series differ in rows/columns")
    return sorted(slices, key=lambda s: (s.instance or 0, s.z or 0.0, s.file))


def summarize(slices: Sequence[Slice], threshold_hu: float) -> dict[str, Any]:
    """The content of summary.json."""
    first = slices[0]
    voxels = sum(s.stats.voxels for s in slices)
    above = sum(s.stats.voxels_above for s in slices)
    mean = sum(s.stats.mean_hu * s.stats.voxels for s in slices) / voxels
    return {
        "series_instance_uid": first.series_uid,
        "slices": len(slices),
        "rows": first.rows,
        "columns": first.columns,
        "min_hu": min(s.stats.min_hu for s in slices),
        "max_hu": max(s.stats.max_hu for s in slices),
        "mean_hu": round(mean, 2),
        "threshold_hu": threshold_hu,
        "volume_voxels": above,
        "volume_ml": round(above * first.voxel_ml, 2) if first.voxel_ml else None,
        "per_slice": [s.row() for s in slices],
    }


def write_outputs(outputdir: Path, summary: dict[str, Any]) -> None:
    outputdir.mkdir(parents=True, exist_ok=True)
    (outputdir / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    with (outputdir / SLICES_NAME).open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(summary["per_slice"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("inputdir", type=Path, help="the series (DICOM files, any layout)")
    parser.add_argument("outputdir", type=Path, help="where summary.json and slices.csv go")
    parser.add_argument(
        "--threshold", type=float, default=DEFAULT_THRESHOLD_HU,
        help="HU above which a voxel counts as the phantom (default: %(default)s)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        slices = read_series(args.inputdir, args.threshold)
    except InvalidInput as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    summary = summarize(slices, args.threshold)
    write_outputs(args.outputdir, summary)
    print(
        f"{PROG}: {summary['slices']} slices of {summary['rows']}x{summary['columns']}, "
        f"volume {summary['volume_voxels']} voxels above {args.threshold:g} HU"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
