"""What the cluster refuses reaches pman as a radswift error with a message an operator can
act on (which verb on which resource, the quota, the invalid field), never a traceback
of the client library.

Against FakeKubernetesAPI (a fake API server, not Kubernetes)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from kube_helpers import spec

from fakes.kube_cluster import FakeKubernetesAPI
from radswift.errors import ConfigError, InvalidInput, JobError, StorageUnavailable
from radswift.jobs.kube import KubernetesBackend, kubernetes_backend
from radswift.jobs.lifecycle import Step


def test_a_missing_rbac_rule_says_which_verb_on_which_resource(
    cluster: FakeKubernetesAPI, make_backend: Callable[..., KubernetesBackend]
) -> None:
    cluster.rules.discard(("create", "jobs"))
    with pytest.raises(ConfigError) as err:
        make_backend().submit(spec("forbidden"))
    assert err.value.reason == "Forbidden"
    assert "'create' on 'jobs.batch'" in err.value.message
    assert "namespace 'radswift'" in err.value.message
    assert err.value.__cause__ is None and err.value.__suppress_context__


@pytest.mark.parametrize(
    ("rule", "call", "words"),
    [
        (("list", "jobs"), lambda b: list(b.adopt()), "'list' on 'jobs.batch'"),
        (("delete", "jobs"), lambda b: b.remove("x"), "'delete' on 'jobs.batch'"),
        (("patch", "jobs"), lambda b: b.cancel("x"), "'patch' on 'jobs.batch'"),
        (("get", "pods/log"), lambda b: list(b.logs("x", Step.PROCESSOR)), "'get' on 'pods/log'"),
    ],
)
def test_every_operation_names_its_own_missing_rule(
    cluster: FakeKubernetesAPI,
    backend: KubernetesBackend,
    rule: tuple[str, str],
    call: Callable[[KubernetesBackend], object],
    words: str,
) -> None:
    backend.submit(spec("x"))
    cluster.rules.discard(rule)
    with pytest.raises(ConfigError, match=words):
        call(backend)


def test_an_exceeded_quota_is_a_job_error_quoting_the_quota(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend
) -> None:
    cluster.quota_jobs = 1
    backend.submit(spec("first"))
    with pytest.raises(JobError) as err:
        backend.submit(spec("second"))
    assert err.value.reason == "QuotaExceeded"
    assert "count/jobs.batch=1" in err.value.message


def test_a_spec_the_cluster_finds_invalid_is_invalid_input_with_its_message(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend
) -> None:
    cluster.admission = lambda obj: (
        "spec.template.spec.containers[0].resources.limits: Invalid value"
    )
    with pytest.raises(InvalidInput, match=r"containers\[0\].resources.limits: Invalid value"):
        backend.submit(spec("invalid"))


def test_an_unreachable_api_is_unavailable_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: k, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
    )
    backend = kubernetes_backend("radswift", kubeconfig, "kubernetes", None)
    try:
        with pytest.raises(StorageUnavailable) as err:
            backend.submit(spec("nowhere"))
        assert err.value.reason == "KubernetesUnreachable"
        assert "cannot reach the Kubernetes API to create jobs.batch" in err.value.message
        assert err.value.http_status == 503
    finally:
        backend.close()


def test_a_wrong_token_is_unauthorized_and_the_token_is_never_shown(
    cluster: FakeKubernetesAPI, tmp_path: Path
) -> None:
    kubeconfig = cluster.kubeconfig(tmp_path / "kubeconfig")
    kubeconfig.write_text(kubeconfig.read_text().replace(cluster.token, "stolen-or-stale"))
    backend = kubernetes_backend("radswift", kubeconfig, "kubernetes", None)
    try:
        with pytest.raises(ConfigError) as err:
            backend.submit(spec("who"))
        assert err.value.reason == "Unauthorized"
        assert "stolen-or-stale" not in err.value.message
    finally:
        backend.close()


def test_no_kubeconfig_outside_a_cluster_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not in a pod"):
        kubernetes_backend("radswift", None, "kubernetes", None)
    with pytest.raises(ConfigError, match="does not exist"):
        kubernetes_backend("radswift", tmp_path / "nope", "kubernetes", None)


def test_a_multi_worker_job_whose_claim_is_refused_is_not_left_waiting(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend
) -> None:
    cluster.rules.discard(("create", "persistentvolumeclaims"))
    with pytest.raises(ConfigError, match="'create' on 'persistentvolumeclaims'"):
        backend.submit(spec("wide", workers=3))
    assert "wide" not in cluster.objects("jobs")
    assert cluster.pods_of("wide") == []
