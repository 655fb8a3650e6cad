"""`radswift ls swift://KEY/PREFIX --dicom`: studies and series from headers read by range.

Against the real local Swift. What crosses the network is measured by a counting
wrapper around the real SwiftStore (it delegates every call and adds up the bytes the
readers yield), not by the code under test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pydicom
import pytest

from radswift.bundle.area_transfer import upload_bundle
from radswift.dev.samples import build_sample_study, write_ct_series
from radswift.dev.swift import LocalSwift
from radswift.dicom import survey_dicom
from radswift.errors import InvalidInput
from radswift.store.base import ObjectInfo, ObjectStore, SegmentRef
from radswift.store.swift import SwiftStore
from radswift.swift.credentials import credentials_from_environ
from radswift.transfer import TransferOptions, upload_tree

pytestmark = [pytest.mark.swift]

RADSWIFT = str(Path(sys.executable).with_name("radswift"))


class _CountingReader:
    def __init__(self, reader: Any, counter: CountingStore) -> None:
        self._reader, self._counter = reader, counter

    @property
    def info(self) -> ObjectInfo:
        return self._reader.info  # type: ignore[no-any-return]

    @property
    def segments(self) -> Sequence[SegmentRef] | None:
        return self._reader.segments  # type: ignore[no-any-return]

    def iter_chunks(self) -> Iterator[bytes]:
        for chunk in self._reader.iter_chunks():
            self._counter.bytes_read += len(chunk)
            yield chunk

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self.close()


class CountingStore:
    """The real store, with the bytes its readers yield and its reads counted."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self.bytes_read = 0
        self.opens = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def open_object(
        self, container: str, name: str, *, offset: int = 0, length: int | None = None
    ) -> _CountingReader:
        self.opens += 1
        reader = self._store.open_object(container, name, offset=offset, length=length)
        return _CountingReader(reader, self)


@pytest.fixture
def store(local_swift: LocalSwift) -> Iterator[SwiftStore]:
    creds = credentials_from_environ(local_swift.environ())
    assert creds is not None
    opened = SwiftStore.from_credentials(creds, workers=16)
    yield opened
    opened.close()


def _key(name: str) -> str:
    import uuid

    return f"lsdicom-{name}-{uuid.uuid4().hex[:8]}"


@pytest.mark.slow
def test_a_1000_slice_series_is_summarized_from_under_5_percent_of_its_bytes(
    store: SwiftStore, tmp_path: Path, record_property: Any
) -> None:
    """Per-file objects and the same series as one bundle: both read by range only."""
    series = tmp_path / "series"
    paths = write_ct_series(series, slices=1000, rows=256, columns=256)
    total = sum(p.stat().st_size for p in paths)
    key = _key("big")
    store.ensure_container(key)
    upload_tree(store, series, key, "input/", options=TransferOptions()).raise_for_failures()
    upload_bundle(store, series, key, "bundled/", TransferOptions()).raise_for_failures()
    for area in ("input/", "bundled/"):
        counting = CountingStore(store)
        survey = survey_dicom(counting, key, area)  # type: ignore[arg-type]
        (study,) = survey.studies
        (found,) = study.series
        assert (found.modality, found.files, found.frames) == ("CT", 1000, 1000)
        assert found.sizes == ("256x256",)
        assert found.bytes == total == survey.bytes_total
        assert found.series_uid == pydicom.dcmread(paths[0]).SeriesInstanceUID
        assert survey.bytes_read == counting.bytes_read  # the survey's own count is true
        share = counting.bytes_read / total
        print(f"ls --dicom {area}: {counting.bytes_read} of {total} bytes ({share:.2%})")
        record_property(f"ls_dicom_share_{area.strip('/')}", round(share, 4))
        assert share < 0.05, f"{area} read {share:.1%} of a full download"


def test_the_sample_study_is_grouped_by_study_and_series_with_the_cli(
    store: SwiftStore, local_swift: LocalSwift, tmp_path: Path
) -> None:
    study = build_sample_study(tmp_path / "study", slices=6, rows=64, columns=64)
    key = _key("cli")
    store.ensure_container(key)
    upload_tree(store, study.directory, key, "input/", options=TransferOptions())
    upload_bundle(store, study.directory, key, "output/", TransferOptions())
    expected = _expected_series(study.directory)
    for area in ("input/", "output/"):
        done = subprocess.run(
            [RADSWIFT, "ls", f"swift://{key}/{area}", "--dicom", "--json"],
            env=local_swift.environ(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        listed = json.loads(done.stdout)
        got = {
            s["series_instance_uid"]: (s["modality"], s["files"], s["frames"], s["bytes"])
            for st in listed["studies"]
            for s in st["series"]
        }
        assert got == expected
        assert listed["other"] == [{"name": f"{area}README.txt", "reason": "not DICOM"}]
        assert listed["bytes_total"] == study.bytes
    text = subprocess.run(
        [RADSWIFT, "ls", f"swift://{key}/input/", "--dicom"],
        env=local_swift.environ(), capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert "CT     6 files, 64x64" in text
    assert "not DICOM or unreadable: 1 file" in text
    assert "Phantom" not in text and "CompressedSamples" not in text  # no patient names


def _expected_series(directory: Path) -> dict[str, tuple[str, int, int, int]]:
    """What pydicom says about every DICOM file, grouped by series."""
    expected: dict[str, tuple[str, int, int, int]] = {}
    for path in sorted(directory.rglob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        frames = int(ds.get("NumberOfFrames") or 1) if "Rows" in ds else 0
        modality, files, seen, size = expected.get(ds.SeriesInstanceUID, (ds.Modality, 0, 0, 0))
        expected[ds.SeriesInstanceUID] = (
            modality, files + 1, seen + frames, size + path.stat().st_size,
        )  # fmt: skip
    return expected


def test_a_prefix_inside_a_bundled_area_is_refused(store: SwiftStore, tmp_path: Path) -> None:
    write_ct_series(tmp_path / "s" / "sub", slices=2, rows=16, columns=16)
    key = _key("inside")
    store.ensure_container(key)
    upload_bundle(store, tmp_path / "s", key, "input/", TransferOptions())
    with pytest.raises(InvalidInput, match="stored as one bundle"):
        survey_dicom(store, key, "input/sub/")
