"""A legacy pman `run` maps onto the one JobRequest: the command line split like a shell,
the plugin's type read from its tail, the original's string limits taken as it took them."""

from __future__ import annotations

from typing import Any

import pytest

from radswift.errors import InvalidInput
from radswift.services.man.legacy.messages import (
    action_of,
    run_request,
    search_terms,
    selected_jid,
    split_command,
)


@pytest.mark.parametrize(
    ("cmd", "kind", "entrypoint"),
    [
        ("pl-x --flag 1 /share/incoming /share/outgoing", "ds", ["pl-x", "--flag", "1"]),
        ("pl-fs --n 3 /share/outgoing", "fs", ["pl-fs", "--n", "3"]),
        ("pl-x --in /share/incoming /share/outgoing", "ds", ["pl-x", "--in"]),
        ("sh -c 'echo \"a b\"; exit 2' /share/outgoing", "fs", ["sh", "-c", 'echo "a b"; exit 2']),
    ],
)
def test_the_type_follows_from_the_command_lines_tail(
    cmd: str, kind: str, entrypoint: list[str]
) -> None:
    assert split_command(cmd) == (kind, entrypoint)


@pytest.mark.parametrize(
    "cmd", ["", "   ", "ls -l", "/share/outgoing", "ls /share/incoming", "a 'b", 7]
)
def test_a_command_line_that_is_not_a_plugins_is_refused(cmd: Any) -> None:
    with pytest.raises(InvalidInput):
        split_command(cmd)


def test_a_run_as_pfcon_sends_it_becomes_a_request_whose_command_is_the_same_words() -> None:
    meta = {
        "cmd": "cp -rT /share/incoming /share/outgoing",
        "auid": "chris",
        "jid": 17,
        "threaded": True,
        "number_of_workers": "2",
        "cpu_limit": "2000m",
        "memory_limit": "1024Mi",
        "gpu_limit": "0",
        "service": "host",
        "container": {"target": {"image": "fnndsc/pl-copy", "cmdParse": False},
                      "manager": {"image": "fnndsc/swarm", "env": {"shareDir": "x"}}},
    }  # fmt: skip
    request = run_request(meta)
    assert request.command() == ["cp", "-rT", "/share/incoming", "/share/outgoing"]
    assert (request.jid, request.auid, request.image, request.type) == (
        "17", "chris", "fnndsc/pl-copy", "ds")  # fmt: skip
    assert (request.number_of_workers, request.gpu_limit) == (2, 0)
    assert (request.cpu_limit, request.memory_limit) == ("2000m", "1024Mi")


def test_a_run_without_an_image_runs_on_the_host() -> None:
    assert run_request({"cmd": "true /share/outgoing", "jid": "j"}).image == "host"


@pytest.mark.parametrize(
    "change",
    [
        {"jid": "../x"},
        {"jid": None},
        {"jid": True},
        {"auid": 5},
        {"gpu_limit": "-1"},
        {"number_of_workers": "1e9"},
        {"memory_limit": 512},
        {"cpu_limit": "lots"},
        {"container": []},
        {"container": {"target": "img"}},
    ],
)
def test_bad_fields_are_invalid_input(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        run_request({"cmd": "true /share/outgoing", "jid": "j", **change})


def test_jobs_are_selected_by_jid_and_searched_by_jid_or_auid() -> None:
    assert selected_jid({"key": "jid", "value": "j1"}) == "j1"
    assert search_terms({"key": "auid", "value": "chris"}) == ("auid", "chris")
    for bad in ({"key": "cmd", "value": "x"}, {"key": "jid"}):
        with pytest.raises(InvalidInput):
            selected_jid(bad) if bad["key"] == "cmd" else search_terms(bad)


@pytest.mark.parametrize("message", [{"action": "quit"}, {"action": "DBctl"}, {}, {"action": 1}])
def test_only_the_actions_served_are_accepted(message: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        action_of(message)
