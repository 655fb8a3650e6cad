"""`radswift push` / `radswift pull` and the IohClient class, through a running pfioh."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pfioh_helpers import BACKENDS, new_key, open_backend, serve, tree_digest

from radswift.cli.app import run_app
from radswift.cli.main import app
from radswift.errors import Conflict, NotFound, UnsafeArchive
from radswift.service_clients.pfioh import IohClient
from radswift.services.ioh import IohSettings
from radswift.store.base import ObjectStore
from trees import make_tree

TREE = {"ct/001.dcm": os.urandom(200_000), "ct/002.dcm": os.urandom(1000), "a.txt": b"a"}


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    store: ObjectStore = open_backend(request.param, request, tmp_path)
    try:
        with serve(store, IohSettings(tokens=frozenset({"tkn"}))) as base:
            yield base
    finally:
        store.close()


def test_cli_push_then_pull_round_trips_a_tree(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    source = make_tree(tmp_path / "src", TREE, empty_dirs=("empty/inner",))
    monkeypatch.setenv("RADSWIFT_IOH_TOKEN", "tkn")
    assert run_app(app, ["push", key, str(source), "--ioh", url]) == 0
    assert run_app(app, ["pull", key, str(tmp_path / "back"), "--ioh", url, "--area", "input"]) == 0
    assert tree_digest(tmp_path / "back") == tree_digest(source)
    assert not list((tmp_path / "back").rglob("*.part"))


def test_push_and_pull_print_a_human_summary_and_json_on_request(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = new_key()
    source = make_tree(tmp_path / "src", TREE, empty_dirs=("empty",))
    assert run_app(app, ["push", key, str(source), "--ioh", url, "--token", "tkn"]) == 0
    pushed = capsys.readouterr()
    assert pushed.out == "" and pushed.err.startswith("pushed 3 files, 1 directory, ")
    back = ["pull", key, str(tmp_path / "back"), "--ioh", url, "--token", "tkn", "--area", "input"]
    assert run_app(app, [*back, "--json"]) == 0
    pulled = json.loads(capsys.readouterr().out)
    assert (pulled["files"], pulled["directories"]) == (3, 1)


def test_cli_reports_a_wrong_token_with_its_exit_code(url: str, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src", {"a": b"1"})
    assert run_app(app, ["push", new_key(), str(source), "--ioh", url, "--token", "bad"]) == 77


def test_client_errors_are_radswift_errors(url: str, tmp_path: Path) -> None:
    key = new_key()
    with IohClient(url, token="tkn") as client:
        with pytest.raises(NotFound):
            client.pull(key, tmp_path / "none")
        client.push(key, make_tree(tmp_path / "src", {"a": b"1"}))
        with pytest.raises(Conflict):
            client.push(key, tmp_path / "src")
        assert client.delete(key)["deleted_objects"] == 1


def test_pull_never_writes_through_a_symlink_in_the_destination(url: str, tmp_path: Path) -> None:
    key = new_key()
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "ct").symlink_to(outside)
    with IohClient(url, token="tkn") as client:
        client.push(key, make_tree(tmp_path / "src", TREE))
        with pytest.raises(UnsafeArchive):
            client.pull(key, dest, area="input")
    assert list(outside.iterdir()) == []


def test_pulling_an_area_the_key_lacks_fails_and_names_the_areas_it_has(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = new_key()
    source = make_tree(tmp_path / "src", TREE)
    with IohClient(url, token="tkn") as client:
        client.push(key, source)
    capsys.readouterr()
    argv = ["pull", key, str(tmp_path / "back"), "--ioh", url, "--token", "tkn"]
    assert run_app(app, argv) == 1
    err = capsys.readouterr().err
    assert "no output/" in err and "input/" in err and "--allow-empty" in err
    assert run_app(app, [*argv, "--allow-empty"]) == 0
    assert not any((tmp_path / "back").iterdir())


def test_an_unknown_key_is_named_with_the_service_url(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["pull", "nosuchkey", str(tmp_path / "back"), "--ioh", url, "--token", "tkn"]
    assert run_app(app, argv) == 1
    assert f"no key 'nosuchkey' on {url}" in capsys.readouterr().err
