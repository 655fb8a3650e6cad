"""How `radswift ls --dicom` shows a DicomSurvey: studies, their series, and what it cost."""

from __future__ import annotations

import json
from typing import Any

import typer

from radswift.cli.summary import human_size
from radswift.dicom import DicomSurvey, SeriesSummary


def show_survey(survey: DicomSurvey, url: str, *, as_json: bool) -> None:
    """Print the survey for people (stdout; the cost on stderr), or as one JSON document."""
    if as_json:
        typer.echo(json.dumps(survey_json(survey), ensure_ascii=False))
        return
    if not survey.studies:
        typer.echo(f"no DICOM files under {url}")
    for study in survey.studies:
        typer.echo(
            f"study {study.study_uid}: {len(study.series)} series,"
            f" {_files(study.files)}, {human_size(study.bytes)}"
        )
        for series in study.series:
            typer.echo("  " + _series_line(series))
    if survey.other:
        typer.echo(
            f"not DICOM or unreadable: {_files(len(survey.other))},"
            f" {human_size(survey.other_bytes)} (--json lists them with the reason)"
        )
    share = survey.bytes_read / survey.bytes_total if survey.bytes_total else 0.0
    typer.echo(
        f"read {human_size(survey.bytes_read)} of {human_size(survey.bytes_total)}"
        f" ({share:.1%}) in {survey.requests} ranged reads",
        err=True,
    )


def _series_line(series: SeriesSummary) -> str:
    number = "-" if series.series_number is None else str(series.series_number)
    sizes = ", ".join(series.sizes) or "no images"
    frames = f" ({series.frames} frames)" if series.frames > series.files else ""
    return (
        f"series {number:>4}  {series.modality or '?':<6} {_files(series.files)}{frames},"
        f" {sizes}, {human_size(series.bytes)}  {series.series_uid}"
    )


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def survey_json(survey: DicomSurvey) -> dict[str, Any]:
    return {
        "studies": [
            {
                "study_instance_uid": study.study_uid,
                "files": study.files,
                "bytes": study.bytes,
                "series": [
                    {
                        "series_instance_uid": s.series_uid,
                        "series_number": s.series_number,
                        "modality": s.modality,
                        "files": s.files,
                        "frames": s.frames,
                        "bytes": s.bytes,
                        "sizes": list(s.sizes),
                    }
                    for s in study.series
                ],
            }
            for study in survey.studies
        ],
        "other": [{"name": name, "reason": reason} for name, reason in survey.other],
        "other_bytes": survey.other_bytes,
        "bytes_total": survey.bytes_total,
        "bytes_read": survey.bytes_read,
        "requests": survey.requests,
    }
