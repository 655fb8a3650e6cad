"""The replace-generation contract (radswift.generation) on the real local store: how
readers resolve an area, and what writers beside pfioh do with a replaced area."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from radswift.bundle.area_transfer import check_one_layout, fetch_area
from radswift.errors import Conflict, StorageUnavailable
from radswift.generation import (
    AreaView,
    list_view,
    new_generation,
    pointer_object,
    resolve,
    switch_to,
)
from radswift.store.local import LocalStore
from radswift.transfer import TransferOptions


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    store.ensure_container("k")
    return store


def put(store: LocalStore, name: str, data: bytes = b"x") -> None:
    store.put_object("k", name, io.BytesIO(data), len(data))


def test_an_area_without_a_pointer_is_plain_and_hides_a_generation_being_written(
    store: LocalStore, tmp_path: Path
) -> None:
    put(store, "input/a", b"old")
    put(store, new_generation("input/") + "a", b"new")  # a first replace, not switched
    view = resolve(store, "k", "input/")
    assert view == AreaView(area="input/", prefix="input/")
    assert [o.name for o in list_view(store, "k", view)] == ["input/a"]
    fetch_area(store, "k", "input/", tmp_path / "got", options=TransferOptions())
    assert [p.name for p in (tmp_path / "got").rglob("*")] == ["a"]
    assert (tmp_path / "got" / "a").read_bytes() == b"old"


def test_the_pointer_switches_readers_to_the_generation(store: LocalStore, tmp_path: Path) -> None:
    put(store, "input/a", b"old")
    gen = new_generation("input/")
    put(store, gen + "a", b"new")
    put(store, gen + "only-new", b"n")
    switch_to(store, "k", "input/", gen, 2)
    view = resolve(store, "k", "input/")
    assert view.prefix == gen and view.objects == 2
    assert [view.logical(o.name) for o in list_view(store, "k", view)] == [
        "input/a",
        "input/only-new",
    ]
    fetch_area(store, "k", "", tmp_path / "whole", options=TransferOptions())
    assert (tmp_path / "whole" / "input" / "a").read_bytes() == b"new"
    assert sorted(p.name for p in (tmp_path / "whole" / "input").iterdir()) == ["a", "only-new"]


def test_a_generation_listed_short_is_listed_again_then_refused(store: LocalStore) -> None:
    gen = new_generation("input/")
    put(store, gen + "a")
    switch_to(store, "k", "input/", gen, 3)  # as if Swift's listing lagged behind
    slept: list[float] = []
    with pytest.raises(StorageUnavailable):
        list_view(store, "k", resolve(store, "k", "input/"), sleep=slept.append)
    assert len(slept) >= 3


def test_a_pointer_that_is_not_ours_is_refused(store: LocalStore) -> None:
    put(store, pointer_object("input/"), b'{"generation": "../../etc"}')
    with pytest.raises(Conflict) as refused:
        resolve(store, "k", "input/")
    assert refused.value.reason == "bad_pointer"


def test_radswift_cp_will_not_write_objects_beside_a_generation(store: LocalStore) -> None:
    gen = new_generation("input/")
    put(store, gen + "a")
    switch_to(store, "k", "input/", gen, 1)
    with pytest.raises(Conflict, match="replaced through pfioh"):
        check_one_layout(store, "k", "input/", "objects")
    check_one_layout(store, "k", "output/", "objects")  # another area: fine
