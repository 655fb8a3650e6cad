"""The submit document: the processor's command as ChRIS pman builds it, one hash per
document, and what is refused before anything is registered."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from radswift.errors import InvalidInput
from radswift.jobmanager.request import JobRequest

BASE: dict[str, Any] = {"jid": "chris-jid-1", "image": "fnndsc/pl-x:1", "entrypoint": ["pl-x"]}


def request(**changes: Any) -> JobRequest:
    return JobRequest.model_validate({**BASE, **changes})


@pytest.mark.parametrize(
    ("kind", "tail"),
    [("ds", ["/share/incoming", "/share/outgoing"]), ("fs", ["/share/outgoing"]),
     ("ts", ["/share/outgoing"])],
)  # fmt: skip
def test_the_command_follows_the_plugin_type(kind: str, tail: list[str]) -> None:
    assert request(type=kind, args=["--n", "3"]).command() == ["pl-x", "--n", "3", *tail]


def test_a_raw_command_is_run_as_given_for_the_legacy_cmd() -> None:
    cmd = ["pl-x", "--n", "3", "/share/incoming", "/share/outgoing"]
    assert request(entrypoint=cmd[:1], args=cmd[1:], raw_command=True).command() == cmd


def test_equal_documents_hash_equal_and_defaults_count_as_given() -> None:
    assert request().spec_hash() == request(input_key="chris-jid-1", gpu_limit=0).spec_hash()
    assert request().spec_hash() != request(args=["-v"]).spec_hash()


def test_the_spec_carries_key_limits_layout_and_empty_input_for_fs() -> None:
    spec = request(type="fs", input_key="study-9", memory_limit="1Gi", cpu_limit="500m",
                   output_layout="bundle").to_spec(store="file:///srv")  # fmt: skip
    assert (spec.storage_key, spec.memory, spec.cpu, spec.store) == (
        "study-9", "1Gi", "500m", "file:///srv",
    )  # fmt: skip
    assert spec.allow_empty_input and spec.output_layout.value == "bundle"
    assert not request().to_spec().allow_empty_input


@pytest.mark.parametrize(
    "change",
    [{"jid": "../x"}, {"jid": "a b"}, {"jid": "x" * 129}, {"input_key": "a/b"},
     {"memory_limit": "1 GB"}, {"cpu_limit": "0"}, {"gpu_limit": 99}, {"number_of_workers": 0},
     {"entrypoint": []}, {"args": ["a\x00b"]}, {"auid": "who?"}, {"surprise": True},
     {"gpu_limit": "1"}],
)  # fmt: skip
def test_bad_fields_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        request(**change)


def test_secret_looking_environment_is_refused_by_the_job_spec() -> None:
    with pytest.raises(InvalidInput, match="secret"):
        request(env={"API_TOKEN": "x"}).to_spec()
