"""The objects pman creates are the existing manifests, valid for a current Kubernetes,
on both platforms (kubernetes-validate, strict: the real OpenAPI schemas)."""

from __future__ import annotations

from collections.abc import Callable

import kubernetes_validate
import pytest
from kube_helpers import spec

from fakes.kube_cluster import FakeKubernetesAPI
from radswift.jobs.kube import KubernetesBackend
from radswift.jobs.kube.objects import claim_body, job_body
from radswift.jobs.spec import Platform

SCHEMA_VERSION = "1.37.0"  # as tests/unit/jobs/test_job_manifests.py


@pytest.mark.parametrize("platform", list(Platform))
@pytest.mark.parametrize("workers", [1, 4])
def test_every_job_pman_creates_is_valid(platform: Platform, workers: int) -> None:
    s = spec("valid-job", workers=workers)
    body = job_body(s, submitted={"jid": "valid-job", "n": workers}, spec_hash="0" * 64)
    kubernetes_validate.validate(body, SCHEMA_VERSION, strict=True)
    kubernetes_validate.validate(claim_body(s, s.name, "uid-1"), SCHEMA_VERSION, strict=True)


def test_the_openshift_backend_creates_jobs_without_a_uid_for_the_scc_to_choose(
    cluster: FakeKubernetesAPI, make_backend: Callable[..., KubernetesBackend], tmp_path
) -> None:
    from radswift.jobs.kube import kubernetes_backend

    backend = kubernetes_backend("radswift", cluster.kubeconfig(tmp_path / "kc"), "openshift", None)
    try:
        assert backend.name == "openshift"
        backend.submit(spec("on-openshift"))
    finally:
        backend.close()
    pod = cluster.objects("jobs")["on-openshift"]["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
