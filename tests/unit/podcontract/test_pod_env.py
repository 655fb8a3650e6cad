"""The pod contract: what a job backend writes is what the publisher reads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from radswift.bundle import Layout
from radswift.errors import ConfigError, InvalidInput
from radswift.jobs.podtemplate import _publisher_env
from radswift.jobs.spec import JobSpec, OutputLayout
from radswift.jobs.spec import WaitStrategy as JobWait
from radswift.podcontract import PodEnv, WaitStrategy
from radswift.podcontract.env import retries_from
from radswift.publisher.config import PublisherConfig


def test_every_value_survives_to_env_and_from_env() -> None:
    written = PodEnv(
        key="study-42",
        share=Path("/share"),
        credentials_file=Path("/etc/swift/swift-credentials.cfg"),
        store="file:///data",
        wait=WaitStrategy.KUBERNETES,
        pod_name="study-42-abc",
        namespace="chris",
        processor_container="processor",
        job_name="study-42",
        workers=3,
        index=2,
        deadline_seconds=86400,
        emissary=Path("/opt/emissary"),
        allow_empty_input=True,
        output_layout=Layout.BUNDLE,
    )
    env = written.to_env()
    assert env["RADSWIFT_DEADLINE_SECONDS"] == "86400"
    assert PodEnv.from_env(env) == written


def test_unset_values_are_left_out_and_read_back_as_unset() -> None:
    env = PodEnv(key="k").to_env()
    assert set(env) == {
        "RADSWIFT_KEY",
        "RADSWIFT_SHARE",
        "RADSWIFT_WORKERS",
        "RADSWIFT_OUTPUT_LAYOUT",
    }
    assert PodEnv.from_env(env) == PodEnv(key="k")


def test_the_publisher_reads_what_a_manifest_writes() -> None:
    spec = JobSpec(jid="study-42", image="x", command=["run"], wait=JobWait.EXITFILE,
                   output_layout=OutputLayout.BUNDLE)  # fmt: skip
    env = {var.name: var.value for var in _publisher_env(spec) if var.value is not None}
    config = PublisherConfig.from_env(env)
    assert (config.key, config.wait, config.output_layout) == ("study-42", "exitfile", "bundle")
    assert config.deadline_seconds == spec.active_deadline_seconds


def test_one_wait_strategy_and_one_layout_type_serve_jobs_and_publisher() -> None:
    assert JobWait is WaitStrategy
    assert OutputLayout is Layout


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "RADSWIFT_WAIT",
            "sometimes",
            "unknown wait strategy 'sometimes': use kubernetes, exitfile or none",
        ),
        ("RADSWIFT_OUTPUT_LAYOUT", "zip", "unknown output layout 'zip'"),
        ("RADSWIFT_WORKERS", "0", "RADSWIFT_WORKERS must be at least 1"),
        ("RADSWIFT_DEADLINE_SECONDS", "soon", "must be a number of seconds"),
    ],
)
def test_a_malformed_variable_is_a_config_error_naming_it(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        PodEnv.from_env({name: value})


def test_radswift_retries_is_the_attempts_per_swift_request() -> None:
    assert retries_from({"RADSWIFT_RETRIES": " 2 "}) == 2
    assert PodEnv.from_env({"RADSWIFT_RETRIES": "3"}).retries == 3
    assert PodEnv(retries=4).to_env()["RADSWIFT_RETRIES"] == "4"
    assert (
        PublisherConfig.from_env(
            {"RADSWIFT_KEY": "k", "RADSWIFT_RETRIES": "5"}, wait="none"
        ).retries
        == 5
    )


def test_an_empty_radswift_retries_means_unset() -> None:
    assert retries_from({"RADSWIFT_RETRIES": ""}) is None
    assert retries_from({}) is None
    assert "RADSWIFT_RETRIES" not in PodEnv().to_env()


@pytest.mark.parametrize("value", ["0", "-3", "abc", "1.5"])
def test_a_bad_radswift_retries_is_invalid_input(value: str) -> None:
    with pytest.raises(InvalidInput, match=rf"RADSWIFT_RETRIES must be .* at least 1 .*'{value}'"):
        retries_from({"RADSWIFT_RETRIES": value})
    with pytest.raises(InvalidInput, match="RADSWIFT_RETRIES"):
        PodEnv.from_env({"RADSWIFT_RETRIES": value})


def test_a_local_store_ignores_radswift_retries() -> None:
    assert (
        PodEnv.from_env({"RADSWIFT_STORE": "file:///data", "RADSWIFT_RETRIES": "0"}).retries is None
    )
