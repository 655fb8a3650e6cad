"""A study of more files than one Swift listing page holds (10,000) survives a round trip.

Swift answers a container listing 10,000 names at a time; a client that forgets the
marker silently loses the rest. This uploads 10,050 small files (a 20,000-file study is
the same code path, twice the time), lists them, and downloads them back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from radswift.dev.swift import LocalSwift
from radswift.store.factory import open_store
from radswift.transfer import TransferOptions, download_tree, upload_tree

FILES = 10_050
PER_DIR = 500


@pytest.mark.swift
@pytest.mark.slow
def test_a_tree_past_one_listing_page_round_trips(local_swift: LocalSwift, tmp_path: Path) -> None:
    source = tmp_path / "study"
    for index in range(FILES):
        series = source / f"series-{index // PER_DIR:03d}"
        if index % PER_DIR == 0:
            series.mkdir(parents=True)
        (series / f"IM-{index:05d}.dcm").write_bytes(b"DICM%05d" % index)

    store = open_store(None, environ=local_swift.environ(), workers=32)
    try:
        options = TransferOptions(workers=32)
        up = upload_tree(store, source, "many-files", "input/", options=options)
        up.raise_for_failures()
        assert up.files == FILES

        listed = list(store.list_objects("many-files", "input/"))
        assert len(listed) == FILES
        names = [info.name for info in listed]
        assert names == sorted(names, key=lambda n: n.encode())
        assert len(set(names)) == FILES

        down = download_tree(store, "many-files", "input/", tmp_path / "back", options=options)
        down.raise_for_failures()
        assert down.files == FILES
    finally:
        store.close()
    back = sorted(p.relative_to(tmp_path / "back") for p in (tmp_path / "back").rglob("*.dcm"))
    assert back == sorted(p.relative_to(source) for p in source.rglob("*.dcm"))
    sample = tmp_path / "back" / "series-020" / "IM-10049.dcm"
    assert sample.read_bytes() == b"DICM10049"
