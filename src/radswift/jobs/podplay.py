"""The Job's pod template as the Pods `podman kube play` runs (podman 4.3 semantics).

The pod spec is the very one the Kubernetes Job carries (radswift.jobs.podtemplate);
only what podman cannot do the cluster's way is changed:
- no `kind: Job`: each worker index becomes one Pod `<job>-<index>`, labelled
  `job-name=<job>` and annotated with its completion index, as the Job controller would;
- `hostNetwork: true`, so the containers reach a Swift listening on 127.0.0.1;
- volumes become host directories the backend prepared: `/share` (one per job, shared
  by its worker pods; podman's emptyDir is a named volume shared across *all* pods),
  the credentials directory instead of the Secret, and a private /tmp per pod;
- downward-API env (pod name, namespace, completion index) becomes literal values,
  which podman 4.3 does not resolve itself (it rejects metadata.namespace);
- a UID where the template leaves it to OpenShift, and no fsGroup (the backend owns
  the directories by that UID instead);
- the init container `get` is kept after it ran (podman removes it otherwise), so its
  exit code and logs can be read.
The API token volume and the `kubernetes` wait strategy have no meaning without an
API server; such specs are refused, as are GPU jobs (no devices are passed through).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radswift.errors import InvalidInput, Unsupported
from radswift.jobs.manifests import serialize
from radswift.jobs.podtemplate import (
    COMPLETION_INDEX_ANNOTATION,
    CREDENTIALS_VOLUME,
    SHARE_VOLUME,
    TMP_VOLUME,
    pod_template,
)
from radswift.jobs.spec import JobSpec, WaitStrategy

INIT_TYPE_ANNOTATION = "io.podman.annotations.init.container.type"
LOCAL_NAMESPACE = "podman"
_ANNOTATION_REF = re.compile(r"^metadata\.annotations\['([^']+)'\]$")


@dataclass(frozen=True, kw_only=True)
class HostPaths:
    """Host directories standing in for the pod's volumes (prepared by the backend)."""

    share: Path
    credentials: Path
    scratch: Path  # holds one /tmp directory per worker index: scratch/<index>
    store: Path | None = None  # a file:// store, mounted at the same path into get/publish

    def tmp(self, index: int) -> Path:
        return self.scratch / str(index)


def pod_name(spec: JobSpec, index: int) -> str:
    return f"{spec.name}-{index}"


def check_playable(spec: JobSpec) -> None:
    """Refuse what podman cannot run faithfully, with the reason."""
    if spec.wait is WaitStrategy.KUBERNETES:
        raise InvalidInput(
            "the 'kubernetes' wait strategy needs a Kubernetes API; under podman use 'exitfile'"
        )
    if spec.gpu:
        raise Unsupported(
            "the podman backend passes no GPUs through: gpu_limit must be 0 (run GPU jobs on"
            " the kubernetes or openshift backend)",
            reason="unsupported_by_backend",
        )


def pod_documents(spec: JobSpec, paths: HostPaths, *, run_as_user: int) -> list[dict[str, Any]]:
    """One Pod document per worker index, in index order (index 0 fetches first)."""
    check_playable(spec)
    template = serialize(pod_template(spec))
    return [_pod(spec, template, paths, index, run_as_user) for index in range(spec.workers)]


def _pod(
    spec: JobSpec, template: dict[str, Any], paths: HostPaths, index: int, run_as_user: int
) -> dict[str, Any]:
    meta = copy.deepcopy(template["metadata"])
    name = pod_name(spec, index)
    meta["name"] = name
    meta["labels"].update({"job-name": spec.name, "batch.kubernetes.io/job-name": spec.name})
    meta["annotations"].update(
        {COMPLETION_INDEX_ANNOTATION: str(index), INIT_TYPE_ANNOTATION: "always"}
    )
    pod_spec = copy.deepcopy(template["spec"])
    for key in ("serviceAccountName", "automountServiceAccountToken", "tolerations"):
        pod_spec.pop(key, None)
    pod_spec["hostNetwork"] = True
    _local_security(pod_spec, run_as_user)
    pod_spec["volumes"] = _volumes(paths, index)
    facts = {"metadata.name": name, "metadata.namespace": LOCAL_NAMESPACE}
    for container in pod_spec.get("initContainers", []) + pod_spec["containers"]:
        _resolve_env(container, facts, meta["annotations"])
        if paths.store is not None and container["name"] != "processor":
            container["volumeMounts"].append({"name": "store", "mountPath": str(paths.store)})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}


def _local_security(pod_spec: dict[str, Any], run_as_user: int) -> None:
    security = pod_spec.setdefault("securityContext", {})
    security.pop("fsGroup", None)
    security.setdefault("runAsUser", run_as_user)
    security.setdefault("runAsGroup", run_as_user)


def _volumes(paths: HostPaths, index: int) -> list[dict[str, Any]]:
    def host(name: str, path: Path) -> dict[str, Any]:
        return {"name": name, "hostPath": {"path": str(path), "type": "Directory"}}

    volumes = [
        host(SHARE_VOLUME, paths.share),
        host(CREDENTIALS_VOLUME, paths.credentials),
        host(TMP_VOLUME, paths.tmp(index)),
    ]
    if paths.store is not None:
        volumes.append(host("store", paths.store))
    return volumes


def _resolve_env(
    container: dict[str, Any], facts: dict[str, str], annotations: dict[str, str]
) -> None:
    for variable in container.get("env", []):
        source = variable.pop("valueFrom", None)
        if source is None:
            continue
        path = source.get("fieldRef", {}).get("fieldPath", "")
        match = _ANNOTATION_REF.match(path)
        if match and match.group(1) in annotations:
            variable["value"] = annotations[match.group(1)]
        elif path in facts:
            variable["value"] = facts[path]
        else:
            raise InvalidInput(f"podman cannot provide {variable['name']} from {source}")
