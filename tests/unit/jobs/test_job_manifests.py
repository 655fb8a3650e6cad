"""The Kubernetes/OpenShift manifests of a job: valid, least-privileged, and secret-free.

Validity is checked with kubernetes-validate (the real Kubernetes OpenAPI schemas, strict
mode: unknown fields are errors). OpenShift compatibility is checked against the rules of
its default `restricted-v2` SCC, written out below.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import kubernetes_validate
import pytest
import yaml

from radswift.jobs.manifests import manifests, to_yaml
from radswift.jobs.podtemplate import EMISSARY
from radswift.jobs.spec import JobSpec, WaitStrategy

SCHEMA_VERSION = "1.37.0"  # the newest schema kubernetes-validate ships (Kubernetes 1.37)

Doc = dict[str, Any]


def spec(**changes: Any) -> JobSpec:
    values: dict[str, Any] = {
        "jid": "study-42",
        "image": "quay.io/fnndsc/pl-simpledsapp:2.1.0",
        "command": ["simpledsapp", "/share/incoming", "/share/outgoing"],
        "cpu": "2000m",
        "memory": "1Gi",
        "namespace": "chris",
    }
    values.update(changes)
    return JobSpec(**values)


VARIANTS = [
    pytest.param(
        {"platform": platform, "workers": workers, "gpu": gpu, "wait": wait},
        id=f"{platform}-{workers}w-{gpu}gpu-{wait}",
    )
    for platform, workers, gpu, wait in itertools.product(
        ["kubernetes", "openshift"], [1, 3], [0, 1], ["kubernetes", "exitfile"]
    )
] + [
    pytest.param(
        {"platform": platform, "workers": 3, "output_layout": "bundle"},
        id=f"{platform}-bundle-output",
    )
    for platform in ["kubernetes", "openshift"]
]


def by_kind(docs: list[Doc], kind: str) -> Doc:
    (found,) = [doc for doc in docs if doc["kind"] == kind]
    return found


def pod_spec(docs: list[Doc]) -> Doc:
    return by_kind(docs, "Job")["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def containers(docs: list[Doc]) -> dict[str, Doc]:
    pod = pod_spec(docs)
    return {c["name"]: c for c in pod["initContainers"] + pod["containers"]}


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) of a document, so rules can be checked wherever a field hides."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")


@pytest.mark.parametrize("changes", VARIANTS)
def test_every_manifest_is_valid_kubernetes_in_strict_mode(changes: dict[str, Any]) -> None:
    docs = manifests(spec(**changes))
    for doc in docs:
        kubernetes_validate.validate(doc, SCHEMA_VERSION, strict=True)
    # ...and the YAML the CLI prints parses back to the same objects
    assert list(yaml.safe_load_all(to_yaml(docs))) == docs


def test_the_strict_validator_does_reject_a_broken_job() -> None:
    """Guards the test above: strict validation must catch an unknown or mistyped field."""
    job = by_kind(manifests(spec()), "Job")
    job["spec"]["template"]["spec"]["containers"][0]["comand"] = ["typo"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, SCHEMA_VERSION, strict=True)


def test_the_job_runs_once_within_its_deadline_and_is_cleaned_up_after() -> None:
    job = by_kind(
        manifests(spec(active_deadline_seconds=600, ttl_seconds_after_finished=60)), "Job"
    )
    assert job["apiVersion"] == "batch/v1"
    assert job["metadata"]["name"] == "study-42"
    assert job["metadata"]["namespace"] == "chris"
    assert job["metadata"]["labels"]["radswift.io/jid"] == "study-42"
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == 600
    assert job["spec"]["ttlSecondsAfterFinished"] == 60
    assert job["spec"]["template"]["metadata"]["labels"]["radswift.io/jid"] == "study-42"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_a_jid_that_is_no_label_is_kept_exactly_in_an_annotation() -> None:
    # a valid key (radswift.names) that is no DNS-1123 label: capitals, '_', a trailing '.'
    job = by_kind(manifests(spec(jid="Study_42.CT.")), "Job")
    assert job["metadata"]["annotations"]["radswift.io/jid"] == "Study_42.CT."
    env = {e["name"]: e.get("value") for e in containers([job])["get"]["env"]}
    assert env["RADSWIFT_KEY"] == "Study_42.CT."


def test_the_pod_is_get_then_processor_beside_publish_around_one_share() -> None:
    docs = manifests(spec())
    pod = pod_spec(docs)
    assert [c["name"] for c in pod["initContainers"]] == ["get"]
    assert [c["name"] for c in pod["containers"]] == ["processor", "publish"]
    by_name = containers(docs)
    assert by_name["get"]["command"] == ["radswift", "publish", "get"]
    assert by_name["publish"]["command"] == ["radswift", "publish", "put"]
    assert by_name["processor"]["command"] == list(spec().command)
    assert by_name["processor"]["image"] == spec().image
    share = {v["name"]: v for v in pod["volumes"]}["share"]
    assert share == {"name": "share", "emptyDir": {}}
    for container in by_name.values():
        assert {"name": "share", "mountPath": "/share"} in container["volumeMounts"]


def test_the_publisher_gets_the_environment_of_the_contract() -> None:
    env = {e["name"]: e for e in containers(manifests(spec(wait="exitfile")))["publish"]["env"]}
    assert env["RADSWIFT_KEY"]["value"] == "study-42"
    assert env["RADSWIFT_SHARE"]["value"] == "/share"
    assert env["RADSWIFT_CREDENTIALS_FILE"]["value"] == "/etc/swift/swift-credentials.cfg"
    assert env["RADSWIFT_WAIT"]["value"] == "exitfile"
    assert env["RADSWIFT_PROCESSOR_CONTAINER"]["value"] == "processor"
    assert env["RADSWIFT_JOB_NAME"]["value"] == "study-42"
    assert env["RADSWIFT_WORKERS"]["value"] == "1"
    assert env["RADSWIFT_DEADLINE_SECONDS"]["value"] == str(spec().active_deadline_seconds)
    assert env["RADSWIFT_POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["RADSWIFT_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"


def test_the_output_layout_reaches_the_publisher_objects_unless_bundle_is_asked() -> None:
    def publisher_env(**changes: Any) -> dict[str, str]:
        env = containers(manifests(spec(**changes)))["publish"]["env"]
        return {e["name"]: e.get("value") for e in env}

    assert publisher_env()["RADSWIFT_OUTPUT_LAYOUT"] == "objects"
    assert publisher_env(output_layout="bundle")["RADSWIFT_OUTPUT_LAYOUT"] == "bundle"
    with pytest.raises(ValueError, match="zip"):
        spec(output_layout="zip")


def test_credentials_come_only_from_the_secret_and_only_to_get_and_publish() -> None:
    docs = manifests(spec(credentials_secret="my-swift"))
    pod = pod_spec(docs)
    secret = {v["name"]: v for v in pod["volumes"]}["swift-credentials"]["secret"]
    assert secret["secretName"] == "my-swift"
    assert secret["defaultMode"] == 0o440
    assert secret["items"] == [{"key": "swift-credentials.cfg", "path": "swift-credentials.cfg"}]
    for name, container in containers(docs).items():
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        if name == "processor":
            assert "swift-credentials" not in mounts
        else:
            assert mounts["swift-credentials"] == {
                "name": "swift-credentials",
                "mountPath": "/etc/swift",
                "readOnly": True,
            }
    assert not any(doc["kind"] == "Secret" for doc in docs)


def test_no_secret_ever_appears_in_the_yaml() -> None:
    text = to_yaml(manifests(spec(env={"MODE": "fast"})))
    for word in ("password", "ST_KEY", "OS_PASSWORD", "applicationSecret", "stringData"):
        assert word not in text


def test_processor_resources_are_requested_and_limited_and_gpus_are_limits() -> None:
    processor = containers(manifests(spec(gpu=2)))["processor"]
    assert processor["resources"] == {
        "requests": {"cpu": "2000m", "memory": "1Gi"},
        "limits": {"cpu": "2000m", "memory": "1Gi", "nvidia.com/gpu": "2"},
    }
    tolerations = pod_spec(manifests(spec(gpu=2)))["tolerations"]
    assert tolerations == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert "tolerations" not in pod_spec(manifests(spec()))
    assert "resources" not in containers(manifests(spec(cpu=None, memory=None)))["processor"]


@pytest.mark.parametrize("platform", ["kubernetes", "openshift"])
def test_every_container_is_locked_down(platform: str) -> None:
    docs = manifests(spec(platform=platform))
    pod = pod_spec(docs)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for name, container in containers(docs).items():
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert security["readOnlyRootFilesystem"] is (name != "processor")


def test_kubernetes_pods_run_as_a_fixed_non_root_uid_with_a_matching_fs_group() -> None:
    security = pod_spec(manifests(spec(run_as_user=2000)))["securityContext"]
    assert security["runAsUser"] == security["runAsGroup"] == security["fsGroup"] == 2000


# Volume types both Kubernetes' "restricted" Pod Security Standard and OpenShift's
# restricted-v2 SCC allow.
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
HOST_ACCESS = {
    "privileged",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "hostPath",
    "hostPort",
    "procMount",
    "add",
}
PLATFORM_CHOSEN = {"runAsUser", "runAsGroup", "fsGroup", "supplementalGroups", "seLinuxOptions"}


def field_names(docs: list[Doc]) -> set[str]:
    return {path.rsplit(".", 1)[-1] for doc in docs for path, _ in walk(doc)}


@pytest.mark.parametrize("changes", VARIANTS)
def test_every_variant_meets_the_restricted_pod_security_standard(changes: dict[str, Any]) -> None:
    """No host access, no added capabilities, only the volume types 'restricted' allows."""
    docs = manifests(spec(**changes))
    assert not field_names(docs) & HOST_ACCESS
    for volume in pod_spec(docs)["volumes"]:
        assert set(volume) - {"name"} <= RESTRICTED_VOLUMES, volume
    for container in containers(docs).values():
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


@pytest.mark.parametrize("changes", [v for v in VARIANTS if "openshift" in str(v.id)])
def test_openshift_output_leaves_uid_fs_group_and_selinux_to_the_restricted_v2_scc(
    changes: dict[str, Any],
) -> None:
    """restricted-v2 rejects a UID or fsGroup outside the namespace's range: write none."""
    assert not field_names(manifests(spec(**changes))) & PLATFORM_CHOSEN


def test_the_publisher_may_only_read_pods_and_their_logs_and_gets_the_token_alone() -> None:
    docs = manifests(spec(wait="kubernetes"))
    account = by_kind(docs, "ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    rules = by_kind(docs, "Role")["rules"]
    assert rules == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},  # the status' log_tail
    ]
    binding = by_kind(docs, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "radswift-publisher",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "radswift-publisher", "namespace": "chris"}
    ]
    pod = pod_spec(docs)
    assert pod["serviceAccountName"] == "radswift-publisher"
    assert pod["automountServiceAccountToken"] is False
    token_mounts = {
        name
        for name, c in containers(docs).items()
        for m in c["volumeMounts"]
        if m["name"] == "kube-api-access"
    }
    assert token_mounts == {"publish"}


def test_without_the_kubernetes_wait_there_is_no_rbac_and_no_token() -> None:
    docs = manifests(spec(wait="exitfile"))
    assert [doc["kind"] for doc in docs] == ["Job"]
    pod = pod_spec(docs)
    assert "serviceAccountName" not in pod
    assert "kube-api-access" not in {v["name"] for v in pod["volumes"]}


def test_exitfile_starts_the_processor_through_the_emissary() -> None:
    processor = containers(manifests(spec(wait=WaitStrategy.EXITFILE)))["processor"]
    assert processor["command"] == [EMISSARY, "--", *spec().command]
    assert EMISSARY == "/share/.radswift/bin/radswift-emissary"


def test_n_workers_are_one_indexed_job_sharing_a_read_write_many_claim() -> None:
    docs = manifests(spec(workers=4, share_size="50Gi", storage_class="cephfs"))
    assert [doc["kind"] for doc in docs][-2:] == ["PersistentVolumeClaim", "Job"]
    claim = by_kind(docs, "PersistentVolumeClaim")
    assert claim["metadata"]["name"] == "study-42-share"
    assert claim["spec"] == {
        "accessModes": ["ReadWriteMany"],
        "storageClassName": "cephfs",
        "resources": {"requests": {"storage": "50Gi"}},
    }
    job = by_kind(docs, "Job")["spec"]
    assert (job["completionMode"], job["completions"], job["parallelism"]) == ("Indexed", 4, 4)
    share = {v["name"]: v for v in pod_spec(docs)["volumes"]}["share"]
    assert share == {"name": "share", "persistentVolumeClaim": {"claimName": "study-42-share"}}
    for container in containers(docs).values():
        env = {e["name"]: e for e in container["env"]}
        index = env["JOB_COMPLETION_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"]
        assert index == "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    get_env = {e["name"]: e.get("value") for e in containers(docs)["get"]["env"]}
    assert get_env["RADSWIFT_WORKERS"] == "4"


def test_one_worker_is_a_plain_job_without_a_claim() -> None:
    docs = manifests(spec(workers=1))
    assert by_kind(docs, "Job")["spec"]["completionMode"] == "NonIndexed"
    assert not any(doc["kind"] == "PersistentVolumeClaim" for doc in docs)
