"""index.json and index.html: every series and every skipped file, with relative links.

The page is one self-contained file (inline CSS, no script), so it opens from a
results directory pulled anywhere, and every link (`study-1/series-01-CT/montage.png`)
is relative to it. All text taken from the data is HTML-escaped.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from pl_dicom_summary import __version__
from pl_dicom_summary.scan import NOT_DICOM, Skipped

INDEX_HTML = "index.html"
INDEX_JSON = "index.json"
SUMMARY_JSON = "summary.json"
MONTAGE_PNG = "montage.png"
SMALL_MONTAGE = 256
"""A montage smaller than this is shown enlarged by a whole factor (pixels kept sharp)."""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
section { border-top: 1px solid #ccc; padding: 1em 0; display: flex; gap: 2em; }
img { background: #000; max-width: 60vw; image-rendering: pixelated; }
table { border-collapse: collapse; } td, th { text-align: left; padding: 0.1em 0.8em 0.1em 0; }
th { font-weight: 600; color: #555; } .skipped td { font-family: monospace; }
"""

_SHOWN = (("modality", "modality"), ("series_description", "series description"),
          ("study_description", "study description"), ("instances", "files"),
          ("frames", "frames"), ("sizes", "image size"), ("pixel_spacing_mm", "pixel spacing mm"),
          ("slice_thickness_mm", "slice thickness mm"),
          ("spacing_between_slices_mm", "slice spacing mm"), ("value_range", "values"),
          ("transfer_syntax", "transfer syntax"))  # fmt: skip


def write_index(
    outputdir: Path, series: list[tuple[str, dict[str, Any]]], skipped: list[Skipped], files: int
) -> None:
    """index.json and index.html for `series` ([(directory, summary)]) and `skipped`."""
    index = {
        "plugin": "pl-dicom-summary",
        "version": __version__,
        "files": files,
        "dicom_files": files - sum(1 for s in skipped if s.reason == NOT_DICOM),
        "series": [
            {
                "directory": directory,
                "summary": f"{directory}/{SUMMARY_JSON}",
                "montage": f"{directory}/{MONTAGE_PNG}" if summary["montage"] else None,
                "modality": summary["modality"],
                "instances": summary["instances"],
            }
            for directory, summary in series
        ],
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
    }
    (outputdir / INDEX_JSON).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    (outputdir / INDEX_HTML).write_text(_html(series, skipped, files), encoding="utf-8")


def _html(series: list[tuple[str, dict[str, Any]]], skipped: list[Skipped], files: int) -> str:
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>DICOM summary</title><style>{_STYLE}</style></head><body>",
        f"<h1>DICOM summary</h1><p>{files} files read: {len(series)} series,"
        f" {len(skipped)} files skipped. Made by pl-dicom-summary {__version__};"
        " no patient identifiers are shown or stored.</p>",
    ]
    if not series:
        parts.append("<p>No DICOM series was found in the input.</p>")
    for directory, summary in series:
        parts.append(_series_section(directory, summary))
    if skipped:
        rows = "".join(
            f"<tr><td>{escape(s.path)}</td><td>{escape(s.reason)}</td></tr>" for s in skipped
        )
        parts.append(
            f'<h2 id="skipped">Skipped files</h2><table class="skipped">'
            f"<tr><th>file</th><th>why</th></tr>{rows}</table>"
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _series_section(directory: str, summary: dict[str, Any]) -> str:
    title = f"{summary['study']} / {summary['series']}"
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(_show(summary.get(key)))}</td></tr>"
        for key, label in _SHOWN
        if summary.get(key) not in (None, [], "")
    )
    link = f"{directory}/{SUMMARY_JSON}"
    montage = summary.get("montage")
    picture = "<p>(no images)</p>"
    if montage:
        zoom = max(1, SMALL_MONTAGE // max(montage["width"], montage["height"]))  # 10x10 RT dose
        picture = (
            f'<a href="{escape(directory)}/{MONTAGE_PNG}"><img src="{escape(directory)}/'
            f'{MONTAGE_PNG}" width="{montage["width"] * zoom}"'
            f' height="{montage["height"] * zoom}" alt="montage of {escape(title)}"></a>'
        )
    return (
        f"<section><div>{picture}</div><div><h2>{escape(title)}</h2><table>{rows}</table>"
        f'<p><a href="{escape(link)}">{SUMMARY_JSON}</a></p></div></section>'
    )


def _show(value: Any) -> str:
    if isinstance(value, dict):
        unit = f" {value['unit']}" if value.get("unit") else ""
        return f"{value['min']:g} to {value['max']:g}{unit}"
    if isinstance(value, list):
        return (
            " x ".join(f"{v:g}" for v in value)
            if value and isinstance(value[0], float)
            else (", ".join(str(v) for v in value))
        )
    return str(value)
