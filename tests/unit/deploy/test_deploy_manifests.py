"""deploy/: the kustomize overlays render (with `kubectl kustomize`, Debian's
kubernetes-client), every object is valid for a current Kubernetes, nothing secret is in
them, every pod passes Pod Security `restricted` (and, on OpenShift, leaves the UID to the
restricted-v2 SCC), and the RBAC is the least pman and the publisher need."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pod_security import restricted_violations

from fakes.kube_cluster import PMAN_RULES
from radswift.jobs.kube.objects import job_body
from radswift.jobs.spec import JobSpec, Platform

REPO = Path(__file__).resolve().parents[3]
SCHEMA_VERSION = "1.37.0"  # the newest schema kubernetes-validate ships
OVERLAYS = ("kubernetes", "openshift")
NO_SCHEMA = {"Route"}  # OpenShift's API: kubernetes-validate has no schema for it
SECRET_WORDS = (
    "password",
    "passwd",
    "secret_key",
    "st_key",
    "os_password",
    "application_credential_secret",
)


def render(overlay: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed (./run installs Debian's kubernetes-client)")
    out = subprocess.run(
        [kubectl, "kustomize", str(REPO / "deploy" / "overlays" / overlay)],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(request.param)


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_every_rendered_object_is_valid(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    overlay, docs = rendered
    kinds = {d["kind"] for d in docs}
    expected = {"Deployment", "Service", "ServiceAccount", "Role", "RoleBinding", "ConfigMap",
                "NetworkPolicy", "PersistentVolumeClaim"}  # fmt: skip
    assert expected <= kinds
    assert ("Ingress" if overlay == "kubernetes" else "Route") in kinds
    for doc in docs:
        assert doc["metadata"]["namespace"] == "radswift"
        if doc["kind"] in NO_SCHEMA:
            assert (
                doc["apiVersion"] == "route.openshift.io/v1"
                and doc["spec"]["to"]["kind"] == "Service"
            )
            continue
        kubernetes_validate.validate(doc, SCHEMA_VERSION, strict=True)


def test_no_secret_value_is_in_the_rendered_output(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    assert not [d for d in docs if d["kind"] == "Secret"]
    text = yaml.safe_dump_all(docs).lower()
    assert not [w for w in SECRET_WORDS if w in text]
    for deployment in by_kind(docs, "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        assert secrets == {"swift-credentials", "radswift-token"}  # referenced by name only
        for c in pod["containers"]:
            assert all("value" not in e or e["name"] == "POD_NAMESPACE" for e in c.get("env") or [])


def test_every_pod_passes_pod_security_restricted(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, docs = rendered
    for name, deployment in by_kind(docs, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert restricted_violations(pod) == [], name
        for c in pod["containers"]:
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
        uid_fields = {"runAsUser", "runAsGroup", "fsGroup"} & set(pod["securityContext"])
        assert uid_fields == (
            set() if overlay == "openshift" else {"runAsUser", "runAsGroup", "fsGroup"}
        )


def test_the_services_have_health_probes_and_bounded_resources(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    services = by_kind(docs, "Service")
    for name, deployment in by_kind(docs, "Deployment").items():
        (c,) = deployment["spec"]["template"]["spec"]["containers"]
        for probe in ("readinessProbe", "livenessProbe"):
            assert c[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert {"cpu", "memory"} <= set(c["resources"]["requests"])
        assert "memory" in c["resources"]["limits"]
        assert services[name]["spec"]["ports"][0]["port"] == c["ports"][0]["containerPort"]


def test_pman_runs_the_platforms_backend_in_its_own_namespace(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    overlay, docs = rendered
    (c,) = by_kind(docs, "Deployment")["pman"]["spec"]["template"]["spec"]["containers"]
    assert f"--backend={overlay}" in c["args"]
    assert "--namespace=$(POD_NAMESPACE)" in c["args"]
    assert "--enableTokenAuth" in c["args"] and "--tokenPath=/etc/radswift/token" in c["args"]


def _rules(role: dict[str, Any]) -> set[tuple[str, str]]:
    out = set()
    for rule in role["rules"]:
        for resource in rule["resources"]:
            out |= {(verb, resource) for verb in rule["verbs"]}
    return out


def test_rbac_is_least_privilege_and_namespaced(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    assert not [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    roles = by_kind(docs, "Role")
    assert _rules(roles["radswift-pman"]) == set(PMAN_RULES)  # what the fake API grants in tests
    assert _rules(roles["radswift-publisher"]) == {
        ("get", "pods"),
        ("list", "pods"),
        ("watch", "pods"),
    }
    assert not any("*" in str(r) for role in roles.values() for r in role["rules"])
    bindings = by_kind(docs, "RoleBinding")
    for name in ("radswift-pman", "radswift-publisher"):
        assert bindings[name]["roleRef"]["name"] == name
        assert bindings[name]["subjects"][0]["name"] == name
    accounts = by_kind(docs, "ServiceAccount")
    assert accounts["radswift-pfioh"]["automountServiceAccountToken"] is False
    assert accounts["radswift-publisher"]["automountServiceAccountToken"] is False


def test_only_the_clients_namespace_and_the_ingress_reach_the_services(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = rendered
    policies = by_kind(docs, "NetworkPolicy")
    assert "radswift-clients" in policies and len(policies) == 2
    for policy in policies.values():
        selector = policy["spec"]["podSelector"]["matchExpressions"][0]
        assert set(selector["values"]) == {"pfioh", "pman"}
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        for rule in policy["spec"]["ingress"]:
            assert [set(source) for source in rule["from"]] == [{"namespaceSelector"}]
    client = policies["radswift-clients"]["spec"]["ingress"][0]["from"][0]["namespaceSelector"]
    assert client["matchLabels"] == {"kubernetes.io/metadata.name": "chris"}


@pytest.mark.parametrize("platform", list(Platform))
@pytest.mark.parametrize("workers", [1, 3])
def test_every_job_pman_creates_passes_pod_security_restricted(
    platform: Platform, workers: int
) -> None:
    spec = JobSpec(jid="psa", image="img", command=("x",), workers=workers, platform=platform)
    body = job_body(spec, submitted={"jid": "psa"}, spec_hash="h")
    assert restricted_violations(body["spec"]["template"]["spec"]) == []
