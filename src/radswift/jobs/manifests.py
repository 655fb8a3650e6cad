"""A job as Kubernetes/OpenShift objects, built with the official client models.

`manifests(spec)` returns plain dicts in apply order: the RBAC the publisher needs
to watch its pod (ServiceAccount, Role that may only get/list/watch pods and get their logs,
RoleBinding), the ReadWriteMany claim that multi-worker pods share, then the
`batch/v1` Job. One worker is a plain Job; N workers are one Indexed Job
(parallelism = completions = N) whose pod of index 0 fetches and publishes.

No secret value is ever written: credentials reach the pod only as the
`credentials_secret` Secret volume, which the cluster operator creates, e.g.
`kubectl create secret generic swift-credentials --from-file=swift-credentials.cfg`.
"""

from __future__ import annotations

from typing import Any

import yaml
from kubernetes.client import ApiClient
from kubernetes.client import models as k

from radswift.jobs.podtemplate import JID_ANNOTATION, JID_LABEL, labels, pod_template
from radswift.jobs.spec import JobSpec, WaitStrategy

Manifest = dict[str, Any]


def manifests(spec: JobSpec) -> list[Manifest]:
    """Every object the job needs, serialized to plain dicts, in the order to apply them."""
    objects: list[Any] = []
    if spec.wait is WaitStrategy.KUBERNETES:
        objects += [service_account(spec), role(spec), role_binding(spec)]
    if spec.workers > 1:
        objects.append(share_claim(spec))
    objects.append(job(spec))
    return [serialize(obj) for obj in objects]


def serialize(model: object) -> Any:
    """A client model as the plain JSON-able structure the API server would receive."""
    return ApiClient().sanitize_for_serialization(model)  # type: ignore[no-untyped-call]


def to_yaml(documents: list[Manifest]) -> str:
    """Multi-document YAML, keys in the models' order (apiVersion, kind, metadata, spec)."""
    return yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=False)


def job(spec: JobSpec) -> k.V1Job:
    """The batch/v1 Job: never retried (backoffLimit 0), bounded in time, cleaned up."""
    indexed = spec.workers > 1
    return k.V1Job(
        api_version="batch/v1",
        kind="Job",
        metadata=_meta(spec, spec.name),
        spec=k.V1JobSpec(
            backoff_limit=0,
            active_deadline_seconds=spec.active_deadline_seconds,
            ttl_seconds_after_finished=spec.ttl_seconds_after_finished,
            completion_mode="Indexed" if indexed else "NonIndexed",
            completions=spec.workers,
            parallelism=spec.workers,
            template=pod_template(spec),
        ),
    )


def service_account(spec: JobSpec) -> k.V1ServiceAccount:
    """The publisher's identity; its token is mounted only where a pod asks for it."""
    return k.V1ServiceAccount(
        api_version="v1",
        kind="ServiceAccount",
        metadata=_meta(spec, spec.service_account, shared=True),
        automount_service_account_token=False,
    )


def role(spec: JobSpec) -> k.V1Role:
    """Read pods in the job's namespace, and the processor's log (the end of it goes into
    the status object), nothing more."""
    return k.V1Role(
        api_version="rbac.authorization.k8s.io/v1",
        kind="Role",
        metadata=_meta(spec, spec.service_account, shared=True),
        rules=[
            k.V1PolicyRule(api_groups=[""], resources=["pods"], verbs=["get", "list", "watch"]),
            k.V1PolicyRule(api_groups=[""], resources=["pods/log"], verbs=["get"]),
        ],
    )


def role_binding(spec: JobSpec) -> k.V1RoleBinding:
    return k.V1RoleBinding(
        api_version="rbac.authorization.k8s.io/v1",
        kind="RoleBinding",
        metadata=_meta(spec, spec.service_account, shared=True),
        role_ref=k.V1RoleRef(
            api_group="rbac.authorization.k8s.io", kind="Role", name=spec.service_account
        ),
        subjects=[
            k.RbacV1Subject(
                kind="ServiceAccount", name=spec.service_account, namespace=spec.namespace
            )
        ],
    )


def share_claim(spec: JobSpec) -> k.V1PersistentVolumeClaim:
    """The /share of a multi-worker job: pods may land on different nodes, so ReadWriteMany."""
    return k.V1PersistentVolumeClaim(
        api_version="v1",
        kind="PersistentVolumeClaim",
        metadata=_meta(spec, spec.share_claim),
        spec=k.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteMany"],
            storage_class_name=spec.storage_class,
            resources=k.V1VolumeResourceRequirements(requests={"storage": spec.share_size}),
        ),
    )


def _meta(spec: JobSpec, name: str, *, shared: bool = False) -> k.V1ObjectMeta:
    """Objects of one job carry its jid; the RBAC objects all jobs of a namespace share do not."""
    own = labels(spec)
    if shared:
        own.pop(JID_LABEL)
    return k.V1ObjectMeta(
        name=name,
        namespace=spec.namespace,
        labels=own,
        annotations=None if shared else {JID_ANNOTATION: spec.jid},
    )
