"""pl-dicom-summary: what a DICOM study holds, series by series, without patient identifiers.

A ChRIS "ds" plugin (`pl_dicom_summary INPUTDIR OUTPUTDIR`), written with PyPI
`chris-plugin` as ChRIS plugins are today. It reads every file under INPUTDIR with
pydicom, groups the DICOM ones by study and series, and writes under OUTPUTDIR:

    index.html                            every series: montage, key values, its JSON
    index.json                            the same for programs, plus the skipped files
    study-N/series-NN-MODALITY/summary.json   one series (see summary.py for the fields)
    study-N/series-NN-MODALITY/montage.png    up to --tiles frames of the series, in order

Files that are not DICOM, or whose header or pixels cannot be read, are listed in
index.json and index.html with the reason and skipped: the plugin never crashes on its
input. Modules: scan.py (find and group), summary.py (one series' values), montage.py
(frames to PNG), report.py (index.html and index.json), __main__.py (the ChRIS entry).
"""

__version__ = "1.0.0"
