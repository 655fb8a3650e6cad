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


@pytest.mark.parametrize(
    "change",
    [{"memory_limit": "999999999Ti"}, {"memory_limit": "2Ti"}, {"memory_limit": "1100G"},
     {"memory_limit": "0"}, {"memory_limit": "0Mi"}, {"memory_limit": "1023Ki"},
     {"memory_limit": "1" + "0" * 40}, {"cpu_limit": "257"}, {"cpu_limit": "256001m"},
     {"cpu_limit": "99999999999999"}, {"cpu_limit": "0m"}, {"cpu_limit": "0.000"},
     {"gpu_limit": 17}],
)  # fmt: skip
def test_absurd_limits_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=r"from 1|less than or equal"):
        request(**change)


@pytest.mark.parametrize(
    "change",
    [{"memory_limit": "1Ti"}, {"memory_limit": "1Mi"}, {"memory_limit": "1000G"},
     {"memory_limit": "1048576"}, {"cpu_limit": "256"}, {"cpu_limit": "256000m"},
     {"cpu_limit": "1m"}, {"cpu_limit": "0.001"}, {"gpu_limit": 16}],
)  # fmt: skip
def test_limits_a_research_platform_uses_are_accepted_up_to_the_bounds(
    change: dict[str, Any],
) -> None:
    assert request(**change).document()[next(iter(change))] == next(iter(change.values()))


def test_the_bounds_are_documented_in_the_openapi_schema_and_pmans_help() -> None:
    from radswift.cli.man import MAN_HELP

    assert all(bound in MAN_HELP for bound in ("1Ti", "256000m", "422"))
    fields = JobRequest.model_json_schema()["properties"]
    assert "1Ti" in fields["memory_limit"]["description"]
    assert "256000m" in fields["cpu_limit"]["description"]
    assert "422" in fields["gpu_limit"]["description"]
