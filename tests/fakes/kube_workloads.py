"""The FAKE cluster's controllers for FakeKubernetesAPI: a Job controller and a "kubelet".

Not Kubernetes: objects are built with the official client's models and serialized as
the API server would send them (ApiClient.sanitize_for_serialization), so the backend
under test parses real shapes. The Job controller creates a Job's pods at once (Pending)
and sets the Job's conditions the way batch/v1 does with backoffLimit 0: `Complete`
when every completion succeeded, `Failed` (BackoffLimitExceeded, or DeadlineExceeded)
at the first failed pod. Tests move pods with the kubelet functions.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client import models as k

INDEX_KEY = "batch.kubernetes.io/job-completion-index"
CONTAINERS = ("processor", "publish")
Obj = dict[str, Any]


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def serialize(model: object) -> Any:
    return ApiClient().sanitize_for_serialization(model)


def job_pods(job: Obj) -> list[Obj]:
    """The pods the Job controller creates for a new Job: one per completion, Pending."""
    spec = job["spec"]
    indexed = spec.get("completionMode") == "Indexed"
    name = job["metadata"]["name"]
    pods = []
    for index in range(int(spec.get("completions") or 1)):
        labels = dict(spec["template"]["metadata"].get("labels") or {})
        labels.update(
            {
                "job-name": name,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": job["metadata"]["uid"],
            }
        )
        annotations = dict(spec["template"]["metadata"].get("annotations") or {})
        pod_name = f"{name}-{secrets.token_hex(3)[:5]}"
        if indexed:
            labels[INDEX_KEY] = annotations[INDEX_KEY] = str(index)
            pod_name = f"{name}-{index}-{secrets.token_hex(3)[:5]}"
        meta = k.V1ObjectMeta(
            name=pod_name,
            namespace=job["metadata"]["namespace"],
            labels=labels,
            annotations=annotations,
            uid=f"uid-{pod_name}",
            creation_timestamp=now(),
            owner_references=[
                k.V1OwnerReference(
                    api_version="batch/v1",
                    kind="Job",
                    name=name,
                    uid=job["metadata"]["uid"],
                    controller=True,
                )
            ],
        )
        pod = serialize(k.V1Pod(api_version="v1", kind="Pod", metadata=meta))
        pod["spec"] = spec["template"]["spec"]
        pod["status"] = serialize(
            k.V1PodStatus(
                phase="Pending",
                init_container_statuses=[_waiting("get", pod, "PodInitializing")],
                container_statuses=[_waiting(c, pod, "PodInitializing") for c in CONTAINERS],
            )
        )
        pods.append(pod)
    return pods


def bare_pod(name: str, namespace: str, *, job: str, index: int | None) -> Obj:
    """A Running pod of `job` (worker `index` of an Indexed Job), made without its Job:
    what the publisher's wait watches, with the processor and publish containers running."""
    labels = {"job-name": job}
    annotations: dict[str, str] = {}
    if index is not None:
        labels[INDEX_KEY] = annotations[INDEX_KEY] = str(index)
    meta = k.V1ObjectMeta(
        name=name,
        namespace=namespace,
        labels=labels,
        annotations=annotations,
        uid=f"uid-{name}",
        creation_timestamp=now(),
    )
    pod = serialize(k.V1Pod(api_version="v1", kind="Pod", metadata=meta))
    pod["spec"] = {"containers": [{"name": c, "image": f"img/{c}"} for c in CONTAINERS]}
    pod["status"] = {"phase": "Running", "startTime": serialize(now())}
    pod["status"]["containerStatuses"] = [_running(c, pod) for c in CONTAINERS]
    return pod


def _image(pod: Obj, container: str) -> str:
    spec = pod["spec"]
    for c in [*(spec.get("initContainers") or []), *spec["containers"]]:
        if c["name"] == container:
            return str(c["image"])
    return "unknown"


def _waiting(
    container: str, pod: Obj, reason: str, message: str | None = None
) -> k.V1ContainerStatus:
    return k.V1ContainerStatus(
        name=container,
        image=_image(pod, container),
        image_id="",
        ready=False,
        restart_count=0,
        state=k.V1ContainerState(waiting=k.V1ContainerStateWaiting(reason=reason, message=message)),
    )


def _started(container: str, pod: Obj, state: k.V1ContainerState, *, running: bool) -> Obj:
    """The status of a container that got as far as starting (its image pulled)."""
    return serialize(
        k.V1ContainerStatus(
            name=container,
            image=_image(pod, container),
            image_id=f"{_image(pod, container)}@sha256:0",
            ready=running,
            restart_count=0,
            started=running,
            container_id=f"containerd://{container}",
            state=state,
        )
    )


def _running(container: str, pod: Obj) -> Obj:
    state = k.V1ContainerState(running=k.V1ContainerStateRunning(started_at=now()))
    return _started(container, pod, state, running=True)


def _terminated(container: str, pod: Obj, exit_code: int, reason: str | None) -> Obj:
    ended = k.V1ContainerStateTerminated(
        exit_code=exit_code,
        reason=reason or ("Completed" if exit_code == 0 else "Error"),
        started_at=now(),
        finished_at=now(),
    )
    return _started(container, pod, k.V1ContainerState(terminated=ended), running=False)


# --- the kubelet: what tests make happen to a pod (each changes the pod in place) ----------
def init_running(pod: Obj) -> None:
    pod["status"]["initContainerStatuses"] = [_running("get", pod)]
    pod["status"]["startTime"] = serialize(now())


def running(pod: Obj) -> None:
    pod["status"]["phase"] = "Running"
    pod["status"].setdefault("startTime", serialize(now()))
    pod["status"]["initContainerStatuses"] = [_terminated("get", pod, 0, None)]
    pod["status"]["containerStatuses"] = [_running(c, pod) for c in CONTAINERS]


def init_failed(pod: Obj, exit_code: int) -> None:
    pod["status"]["phase"] = "Failed"
    pod["status"]["initContainerStatuses"] = [_terminated("get", pod, exit_code, None)]


def processor_terminated(pod: Obj, exit_code: int, reason: str | None) -> None:
    """Only the processor ended (the publish container still runs, the pod too)."""
    pod["status"]["containerStatuses"] = [
        _terminated("processor", pod, exit_code, reason) if cs["name"] == "processor" else cs
        for cs in pod["status"]["containerStatuses"]
    ]


def terminated(
    pod: Obj, *, processor: int, publish: int = 0, processor_reason: str | None = None
) -> None:
    pod["status"]["containerStatuses"] = [
        _terminated("processor", pod, processor, processor_reason),
        _terminated("publish", pod, publish, None),
    ]
    pod["status"]["phase"] = "Succeeded" if processor == 0 and publish == 0 else "Failed"


def pull_failing(pod: Obj, container: str) -> None:
    pod["status"]["initContainerStatuses"] = [_terminated("get", pod, 0, None)]
    message = f'Back-off pulling image "{_image(pod, container)}"'
    pod["status"]["containerStatuses"] = [
        serialize(
            _waiting(
                c,
                pod,
                "ImagePullBackOff" if c == container else "PodInitializing",
                message if c == container else None,
            )
        )
        for c in CONTAINERS
    ]


def evicted(pod: Obj) -> None:
    pod["status"]["phase"] = "Failed"
    pod["status"]["reason"] = "Evicted"
    pod["status"]["message"] = "The node was low on resource: memory."


def container_state(pod: Obj, container: str) -> str | None:
    """`running`, `terminated`, `waiting` or None: what a log request may see."""
    status = pod["status"]
    for cs in [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]:
        if cs["name"] == container:
            return next(iter(cs.get("state") or {}), None)
    return None


# --- the Job controller's view of its pods ----------------------------------------------
def job_status(job: Obj, pods: list[Obj], *, deadline: bool = False) -> Obj:
    """The Job's status as the controller computes it from its pods (backoffLimit 0)."""
    phases = [p["status"]["phase"] for p in pods]
    status = dict(job.get("status") or {})
    status.setdefault("startTime", serialize(now()))
    status["active"] = sum(p in ("Pending", "Running") for p in phases) or None
    status["succeeded"] = phases.count("Succeeded") or None
    status["failed"] = phases.count("Failed") or None
    conditions = list(status.get("conditions") or [])
    finished = any(c["type"] in ("Complete", "Failed") for c in conditions)
    completions = int(job["spec"].get("completions") or 1)
    if not finished and deadline:
        conditions.append(
            _condition(
                "Failed", "DeadlineExceeded", "Job was active longer than specified deadline"
            )
        )
    elif not finished and "Failed" in phases:
        conditions.append(
            _condition(
                "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"
            )
        )
    elif not finished and phases.count("Succeeded") >= completions:
        conditions.append(_condition("Complete", None, None))
        status["completionTime"] = serialize(now())
    if job["spec"].get("suspend") and not any(c["type"] == "Suspended" for c in conditions):
        conditions.append(_condition("Suspended", "JobSuspended", "Job suspended"))
    status["conditions"] = conditions or None
    return {key: value for key, value in status.items() if value is not None}


def _condition(kind: str, reason: str | None, message: str | None) -> Obj:
    return serialize(
        k.V1JobCondition(
            type=kind,
            status="True",
            reason=reason,
            message=message,
            last_probe_time=now(),
            last_transition_time=now(),
        )
    )
