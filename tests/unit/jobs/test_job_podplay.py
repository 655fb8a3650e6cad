"""The Job's pod template as podman kube-play Pods: the same containers, local volumes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from radswift.errors import InvalidInput
from radswift.jobs.manifests import manifests
from radswift.jobs.podplay import HostPaths, pod_documents
from radswift.jobs.spec import JobSpec

SCHEMA_VERSION = "1.37.0"
PATHS = HostPaths(
    share=Path("/jobs/j/share"),
    credentials=Path("/jobs/j/credentials"),
    scratch=Path("/jobs/j/tmp"),
)


def spec(**changes: Any) -> JobSpec:
    values: dict[str, Any] = {
        "jid": "study-42",
        "image": "localhost/proc:1",
        "command": ["sh", "-c", "true"],
        "wait": "exitfile",
        "cpu": "500m",
        "memory": "256Mi",
    }
    values.update(changes)
    return JobSpec(**values)


def volumes(pod: dict[str, Any]) -> dict[str, Any]:
    return {v["name"]: v for v in pod["spec"]["volumes"]}


def all_containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return pod["spec"]["initContainers"] + pod["spec"]["containers"]  # type: ignore[no-any-return]


def test_the_pods_keep_the_jobs_containers_unchanged_but_for_their_env() -> None:
    job = spec()
    (pod,) = pod_documents(job, PATHS, run_as_user=1001)
    template = manifests(job)[-1]["spec"]["template"]["spec"]
    for played, original in zip(
        all_containers(pod), template["initContainers"] + template["containers"], strict=True
    ):
        assert {k: v for k, v in played.items() if k != "env"} == {
            k: v for k, v in original.items() if k != "env"
        }


def test_each_worker_is_a_pod_named_and_labelled_as_the_job_controller_would() -> None:
    pods = pod_documents(spec(workers=3), PATHS, run_as_user=1001)
    assert [p["metadata"]["name"] for p in pods] == ["study-42-0", "study-42-1", "study-42-2"]
    for index, pod in enumerate(pods):
        assert pod["kind"] == "Pod"
        assert pod["metadata"]["labels"]["job-name"] == "study-42"
        annotations = pod["metadata"]["annotations"]
        assert annotations["batch.kubernetes.io/job-completion-index"] == str(index)
        assert annotations["io.podman.annotations.init.container.type"] == "always"
        for container in all_containers(pod):
            env = {e["name"]: e for e in container["env"]}
            assert env["JOB_COMPLETION_INDEX"] == {
                "name": "JOB_COMPLETION_INDEX",
                "value": str(index),
            }


def test_downward_api_values_become_literals() -> None:
    (pod,) = pod_documents(spec(), PATHS, run_as_user=1001)
    for container in all_containers(pod):
        assert all("valueFrom" not in e for e in container.get("env", []))
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][1]["env"]}
    assert env["RADSWIFT_POD_NAME"] == "study-42-0"
    assert env["RADSWIFT_NAMESPACE"] == "podman"


def test_the_publish_container_of_a_played_pod_gets_the_output_layout() -> None:
    (pod,) = pod_documents(spec(output_layout="bundle"), PATHS, run_as_user=1001)
    publish = {c["name"]: c for c in all_containers(pod)}["publish"]
    assert {"name": "RADSWIFT_OUTPUT_LAYOUT", "value": "bundle"} in publish["env"]


def test_volumes_are_the_jobs_host_directories_and_the_network_is_the_hosts() -> None:
    store = Path("/srv/store")
    paths = HostPaths(
        share=PATHS.share, credentials=PATHS.credentials, scratch=PATHS.scratch, store=store
    )
    pods = pod_documents(spec(workers=2, store="file:///srv/store"), paths, run_as_user=1001)
    for index, pod in enumerate(pods):
        assert pod["spec"]["hostNetwork"] is True
        assert volumes(pod) == {
            "share": {"name": "share", "hostPath": {"path": "/jobs/j/share", "type": "Directory"}},
            "swift-credentials": {
                "name": "swift-credentials",
                "hostPath": {"path": "/jobs/j/credentials", "type": "Directory"},
            },
            "tmp": {
                "name": "tmp",
                "hostPath": {"path": f"/jobs/j/tmp/{index}", "type": "Directory"},
            },
            "store": {"name": "store", "hostPath": {"path": "/srv/store", "type": "Directory"}},
        }
        mounts = {c["name"]: {m["name"] for m in c["volumeMounts"]} for c in all_containers(pod)}
        assert "store" in mounts["get"] and "store" in mounts["publish"]
        assert "store" not in mounts["processor"]


def test_openshift_pods_get_a_local_uid_and_no_fs_group() -> None:
    (pod,) = pod_documents(spec(platform="openshift"), PATHS, run_as_user=4242)
    security = pod["spec"]["securityContext"]
    assert (security["runAsUser"], security["runAsGroup"]) == (4242, 4242)
    assert "fsGroup" not in security
    (kube_pod,) = pod_documents(spec(run_as_user=1500), PATHS, run_as_user=4242)
    assert kube_pod["spec"]["securityContext"]["runAsUser"] == 1500
    assert "fsGroup" not in kube_pod["spec"]["securityContext"]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_played_pods_are_still_valid_pods(workers: int) -> None:
    for pod in pod_documents(spec(workers=workers), PATHS, run_as_user=1001):
        kubernetes_validate.validate(pod, SCHEMA_VERSION, strict=True)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [({"wait": "kubernetes"}, "Kubernetes API"), ({"gpu": 1}, "GPU")],
)
def test_what_podman_cannot_do_faithfully_is_refused(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        pod_documents(spec(**changes), PATHS, run_as_user=1001)
