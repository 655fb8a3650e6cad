"""survey_dicom on the local store: grouping, layouts side by side, and bad bundles."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from radswift.bundle.area_transfer import upload_bundle
from radswift.dev.samples import write_ct_series
from radswift.dicom import survey_dicom
from radswift.errors import InvalidInput
from radswift.store.local import LocalStore
from radswift.transfer import TransferOptions, upload_tree


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    store.ensure_container("k")
    return store


def test_a_whole_key_is_surveyed_across_per_file_and_bundled_areas(
    store: LocalStore, tmp_path: Path
) -> None:
    write_ct_series(tmp_path / "a", slices=3, rows=32, columns=16)
    write_ct_series(tmp_path / "b", slices=2, rows=8, columns=8)
    (tmp_path / "b" / "notes.txt").write_text("not dicom")
    upload_tree(store, tmp_path / "a", "k", "input/", options=TransferOptions())
    upload_bundle(store, tmp_path / "b", "k", "output/", TransferOptions())
    survey = survey_dicom(store, "k")
    assert sorted((s.files, s.sizes) for st in survey.studies for s in st.series) == [
        (2, ("8x8",)), (3, ("32x16",)),
    ]  # fmt: skip
    assert survey.other == (("output/notes.txt", "not DICOM"),)
    assert survey.requests == 3 + 1 + 1  # one per object; the small bundle: its header, its end


def test_a_bundle_that_is_not_a_tar_is_an_invalid_input(store: LocalStore) -> None:
    junk = b"\x01" * 3000
    store.put_object("k", "input/.radswift-bundle.tar", io.BytesIO(junk), len(junk))
    with pytest.raises(InvalidInput, match="not a readable tar"):
        survey_dicom(store, "k", "input/")


def test_an_empty_prefix_has_no_studies(store: LocalStore) -> None:
    survey = survey_dicom(store, "k", "input/")
    assert (survey.studies, survey.other, survey.bytes_read) == ((), (), 0)


def test_garbage_after_a_dicom_preamble_is_unreadable_not_a_study(store: LocalStore) -> None:
    for name, data in {
        "input/garbage.dcm": b"\0" * 128 + b"DICM" + b"\xff" * 300,
        "input/cut.dcm": b"\0" * 128 + b"DICM",
        "input/empty.dcm": b"",
    }.items():
        store.put_object("k", name, io.BytesIO(data), len(data))
    survey = survey_dicom(store, "k", "input/")
    assert survey.studies == ()
    assert [name for name, _ in survey.other] == [
        "input/cut.dcm", "input/empty.dcm", "input/garbage.dcm",
    ]  # fmt: skip
