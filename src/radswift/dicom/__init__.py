"""DICOM awareness without downloading pixels: what a key holds, by study and series.

headers.py   one file's header (pydicom, stop_before_pixels) as a small typed record
survey.py    `survey_dicom(store, key, prefix)`: every object's (or bundle member's)
             header read through bounded ranged reads, grouped by study and series
"""

from radswift.dicom.headers import SliceHeader, read_header
from radswift.dicom.survey import DicomSurvey, SeriesSummary, StudySummary, survey_dicom

__all__ = [
    "DicomSurvey",
    "SeriesSummary",
    "SliceHeader",
    "StudySummary",
    "read_header",
    "survey_dicom",
]
