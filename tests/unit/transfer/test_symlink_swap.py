"""A processor cannot make `publish put` upload what lies outside /share/outgoing.

`publish put` uploads per file as publisher/job_areas.publish_output does: one walk that
skips links (plan_upload: lstat, links reported and recorded in the status object's
`ignored`), then the upload of that plan (upload_plan). Links present at the walk were
never followed (ruled out below); the confirmed hole was a file swapped for a link (or
a directory for a link to a directory) between the walk and the upload, which `open()`
followed. The upload now opens every component without following links and refuses a
file that is no longer the regular file of the plan: that file fails (reported), and
nothing of the link's target is stored.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from radswift.store import LocalStore
from radswift.transfer import TransferOptions
from radswift.transfer.plan import plan_upload
from radswift.transfer.upload import upload_plan

SECRET = b"the credentials the publisher can read"


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture
def outgoing(tmp_path: Path) -> Path:
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.cfg").write_bytes(SECRET)
    out = tmp_path / "outgoing"
    (out / "series").mkdir(parents=True)
    (out / "result.txt").write_bytes(b"result")
    (out / "series" / "1.dcm").write_bytes(b"slice")
    return out


def stored(store: LocalStore) -> dict[str, bytes]:
    out = {}
    for info in store.list_objects("job"):
        with store.open_object("job", info.name) as reader:
            out[info.name] = b"".join(reader.iter_chunks())
    return out


def test_links_planted_before_the_walk_are_skipped_and_reported(
    store: LocalStore, outgoing: Path
) -> None:
    (outgoing / "leak.cfg").symlink_to(outgoing.parent / "secret" / "key.cfg")
    (outgoing / "leakdir").symlink_to(outgoing.parent / "secret")
    result = upload_plan(store, plan_upload(outgoing), "job", "output/", options=TransferOptions())
    assert SECRET not in stored(store).values()
    assert {path for path, _ in result.ignored} == {"leak.cfg", "leakdir"}


@pytest.mark.parametrize("size", [len(SECRET), 7], ids=["same-size", "other-size"])
def test_a_file_swapped_for_a_link_after_the_walk_is_not_followed(
    store: LocalStore, outgoing: Path, size: int
) -> None:
    (outgoing / "result.txt").write_bytes(b"r" * size)
    plan = plan_upload(outgoing)
    (outgoing / "result.txt").unlink()
    (outgoing / "result.txt").symlink_to(outgoing.parent / "secret" / "key.cfg")
    result = upload_plan(store, plan, "job", "output/", options=TransferOptions())
    assert SECRET not in stored(store).values()
    assert [path for path, _ in result.failures] == ["result.txt"]
    assert stored(store)["output/series/1.dcm"] == b"slice"


def test_a_directory_swapped_for_a_link_after_the_walk_is_not_followed(
    store: LocalStore, outgoing: Path
) -> None:
    (outgoing / "series" / "1.dcm").write_bytes(b"s" * len(SECRET))
    plan = plan_upload(outgoing)
    (outgoing / "series" / "1.dcm").unlink()
    (outgoing / "series").rmdir()
    os.symlink(outgoing.parent / "secret", outgoing / "series")
    (outgoing.parent / "secret" / "1.dcm").write_bytes(SECRET)
    result = upload_plan(store, plan, "job", "output/", options=TransferOptions())
    assert SECRET not in stored(store).values()
    assert [path for path, _ in result.failures] == ["series/1.dcm"]
