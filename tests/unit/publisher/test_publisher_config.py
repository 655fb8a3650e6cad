"""PublisherConfig: the pod's environment turned into one validated object.

The key comes from the CLI, else RADSWIFT_KEY, else SWIFT_KEY (the original's name);
paths derive from RADSWIFT_SHARE; in-cluster config comes from
KUBERNETES_SERVICE_HOST/PORT; mistakes are ConfigError or InvalidInput, said clearly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from radswift.errors import ConfigError, InvalidInput, InvalidName
from radswift.publisher.config import PublisherConfig, require_share
from radswift.publisher.wait import strategy_for


def test_the_key_comes_from_the_cli_then_radswift_key_then_swift_key() -> None:
    env = {"RADSWIFT_KEY": "a", "SWIFT_KEY": "b", "RADSWIFT_WAIT": "none"}
    assert PublisherConfig.from_env(env, key="cli").key == "cli"
    assert PublisherConfig.from_env(env).key == "a"
    assert PublisherConfig.from_env({"SWIFT_KEY": "b", "RADSWIFT_WAIT": "none"}).key == "b"
    with pytest.raises(InvalidInput, match="no key"):
        PublisherConfig.from_env({"RADSWIFT_WAIT": "none"})
    with pytest.raises(InvalidName):
        PublisherConfig.from_env({"RADSWIFT_WAIT": "none"}, key="a/b")


def test_paths_derive_from_the_share() -> None:
    config = PublisherConfig.from_env(
        {"RADSWIFT_KEY": "k", "RADSWIFT_WAIT": "none", "RADSWIFT_SHARE": "/s"}
    )
    assert (config.incoming, config.outgoing, config.share.control) == (
        Path("/s/incoming"), Path("/s/outgoing"), Path("/s/.radswift"),
    )  # fmt: skip
    assert (
        config.credentials_file is None
    )  # resolve_credentials: environment, else the Secret's file
    default = PublisherConfig.from_env({"RADSWIFT_KEY": "k", "RADSWIFT_WAIT": "none"})
    assert default.incoming == Path("/share/incoming")


def test_in_a_cluster_the_default_wait_is_kubernetes_with_in_cluster_config() -> None:
    env = {
        "RADSWIFT_KEY": "k", "RADSWIFT_POD_NAME": "job-abc", "RADSWIFT_NAMESPACE": "chris",
        "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "6443",
    }  # fmt: skip
    config = PublisherConfig.from_env(env)
    assert config.wait == "kubernetes"
    assert config.kube is not None and config.kube.host == "https://10.0.0.1:6443"
    assert str(config.kube.token_file).endswith("serviceaccount/token")
    assert strategy_for(config).name == "kubernetes"


def test_outside_a_cluster_the_wait_strategy_must_be_named() -> None:
    with pytest.raises(ConfigError, match="RADSWIFT_WAIT"):
        PublisherConfig.from_env({"RADSWIFT_KEY": "k"})
    with pytest.raises(ConfigError, match="unknown wait strategy"):
        PublisherConfig.from_env({"RADSWIFT_KEY": "k"}, wait="poll")


def test_the_kubernetes_strategy_says_what_it_misses() -> None:
    config = PublisherConfig.from_env(
        {"RADSWIFT_KEY": "k", "RADSWIFT_WORKERS": "3", "RADSWIFT_NAMESPACE": "ns"},
        wait="kubernetes", kube_host="http://127.0.0.1:1",
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"RADSWIFT_POD_NAME.*RADSWIFT_JOB_NAME"):
        strategy_for(config)


def test_workers_and_the_completion_index() -> None:
    env = {"RADSWIFT_KEY": "k", "RADSWIFT_WAIT": "exitfile", "RADSWIFT_WORKERS": "3"}
    assert PublisherConfig.from_env({**env, "JOB_COMPLETION_INDEX": "0"}).is_uploader
    follower = PublisherConfig.from_env({**env, "JOB_COMPLETION_INDEX": "2"})
    assert (follower.worker, follower.is_uploader) == (2, False)
    with pytest.raises(ConfigError, match="JOB_COMPLETION_INDEX=3"):
        PublisherConfig.from_env({**env, "JOB_COMPLETION_INDEX": "3"})
    with pytest.raises(ConfigError, match="RADSWIFT_WORKERS must be an integer"):
        PublisherConfig.from_env({**env, "RADSWIFT_WORKERS": "many"})


def test_the_deadline_comes_from_the_cli_or_the_environment() -> None:
    env = {"RADSWIFT_KEY": "k", "RADSWIFT_WAIT": "none", "RADSWIFT_DEADLINE_SECONDS": "30"}
    assert PublisherConfig.from_env(env).deadline_seconds == 30
    assert PublisherConfig.from_env(env, deadline_seconds=5).deadline_seconds == 5
    with pytest.raises(ConfigError, match="positive"):
        PublisherConfig.from_env(env, deadline_seconds=0)


def test_outside_a_pod_the_share_must_be_named_never_created_at_the_root() -> None:
    nothing = {"RADSWIFT_KEY": "k", "RADSWIFT_WAIT": "none"}
    with pytest.raises(ConfigError, match="set RADSWIFT_SHARE=DIR"):
        require_share(nothing, exists=lambda path: False)
    require_share({**nothing, "RADSWIFT_SHARE": "/tmp/s"}, exists=lambda path: False)


@pytest.mark.parametrize(
    ("env", "present"),
    [
        ({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, set()),  # a Kubernetes pod
        ({}, {Path("/share")}),  # the volume is mounted
        ({}, {Path("/run/.containerenv")}),  # a podman container
        ({}, {Path("/.dockerenv")}),  # a docker container
    ],
)
def test_inside_a_pod_the_default_share_is_used(env: dict[str, str], present: set[Path]) -> None:
    require_share({"RADSWIFT_KEY": "k", **env}, exists=present.__contains__)
