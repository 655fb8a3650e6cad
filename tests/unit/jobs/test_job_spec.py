"""JobSpec: what a job is, validated before anything is rendered or run."""

from __future__ import annotations

import re

import pytest

from radswift.errors import InvalidInput, InvalidName
from radswift.jobs.spec import (
    MAX_JOB_NAME,
    JobSpec,
    Platform,
    WaitStrategy,
    job_name,
    label_value,
)

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def spec(**changes: object) -> JobSpec:
    values: dict[str, object] = {"jid": "job-1", "image": "busybox", "command": ["true"]}
    values.update(changes)
    return JobSpec(**values)  # type: ignore[arg-type]


def test_a_spec_is_frozen_and_its_command_and_env_cannot_change_behind_its_back() -> None:
    command = ["sh", "-c", "true"]
    env = {"A": "1"}
    job = spec(command=command, env=env)
    command.append("x")
    env["B"] = "2"
    assert job.command == ("sh", "-c", "true")
    assert dict(job.env) == {"A": "1"}
    with pytest.raises(AttributeError):
        job.jid = "other"  # type: ignore[misc]


def test_strings_become_the_enums() -> None:
    job = spec(wait="exitfile", platform="openshift")
    assert job.wait is WaitStrategy.EXITFILE
    assert job.platform is Platform.OPENSHIFT


@pytest.mark.parametrize(
    "changes",
    [
        {"image": ""},
        {"cpu": "two"},
        {"memory": "1 GB"},
        {"gpu": -1},
        {"workers": 0},
        {"active_deadline_seconds": 0},
        {"run_as_user": 0},
        {"namespace": "Not_A_Label"},
        {"credentials_secret": "bad/name"},
        {"env": {"1X": "y"}},
        {"env": {"RADSWIFT_KEY": "other"}},
        {"wait": "exitfile", "command": []},
    ],
)
def test_invalid_values_are_refused_with_invalid_input(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        spec(**changes)


def test_the_jid_must_be_a_valid_key() -> None:
    with pytest.raises(InvalidName):
        spec(jid="a/b")


@pytest.mark.parametrize("name", ["SWIFT_PASSWORD", "API_TOKEN", "client_secret", "OS_CREDENTIAL"])
def test_env_that_looks_like_a_secret_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="secret"):
        spec(env={name: "value"})


def test_a_jid_that_is_a_short_dns_label_is_the_job_name() -> None:
    assert job_name("study-42") == "study-42"


@pytest.mark.parametrize(
    "jid", ["Study 42", "UPPER", "x" * 200, "über/ä", "---", "a_b.c", "chris-jid-" + "9" * 60]
)
def test_any_other_jid_gets_a_valid_name_of_bounded_length(jid: str) -> None:
    name = job_name(jid)
    assert DNS_LABEL.match(name), name
    assert len(name) <= MAX_JOB_NAME


def test_jids_that_slug_alike_still_get_different_names() -> None:
    assert job_name("Study 42") != job_name("study_42")
    assert job_name("Study 42") == job_name("Study 42")


def test_label_value_keeps_the_jid_where_a_label_can_hold_it() -> None:
    assert label_value("Study_42.v1") == "Study_42.v1"
    assert label_value("Study 42") == job_name("Study 42")


def test_a_jid_shaped_like_another_jids_hashed_name_does_not_get_that_name() -> None:
    victim = job_name("Victim")
    assert victim != "Victim" and DNS_LABEL.match(victim)

    assert job_name(victim) != victim  # hashed in turn: the mapping is one to one
    assert DNS_LABEL.match(job_name(victim)) and len(job_name(victim)) <= MAX_JOB_NAME
    assert job_name("chris-jid-12") == "chris-jid-12"  # ordinary jids keep their name
