"""pman's `kubernetes` and `openshift` backends: Jobs through the Kubernetes API.

`kubernetes_backend(namespace, kubeconfig, platform, store)` is the one constructor the
composition root (radswift.cli) calls; everything else is behind `KubernetesBackend`
(a `radswift.jobs.lifecycle.ManagedBackend`). Modules:

    api.py       configuration (kubeconfig or in-cluster) and ApiException -> radswift errors
    objects.py   the Job and claim pman creates: existing manifests + pman's labels/annotations
    informer.py  LIST + WATCH with resume, re-list on 410 Gone, backoff
    observe.py   Job + pods (+ status object) -> Observation, pure
    logs.py      a step's output, tail or follow, streamed
    backend.py   KubernetesBackend
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client as k8s

from radswift.jobs.kube.api import configuration
from radswift.jobs.kube.backend import DEFAULT_PULL_GRACE, DEFAULT_TICK, KubernetesBackend
from radswift.jobs.kube.informer import MAX_BACKOFF
from radswift.jobs.spec import Platform
from radswift.store.base import ObjectStore

__all__ = ["DEFAULT_PULL_GRACE", "KubernetesBackend", "kubernetes_backend"]


def kubernetes_backend(
    namespace: str,
    kubeconfig: Path | None,
    platform: Platform | str = Platform.KUBERNETES,
    store: ObjectStore | None = None,
    *,
    host: str | None = None,
    pull_grace: float = DEFAULT_PULL_GRACE,
    tick: float = DEFAULT_TICK,
    max_backoff: float = MAX_BACKOFF,
    radswift_image: str | None = None,
    retention_seconds: float | None = None,
) -> KubernetesBackend:
    """The backend for `pman --backend kubernetes|openshift --namespace NS [--kubeconfig]`.

    `kubeconfig` None means in-cluster (the pod's service account); `store` is where the
    jobs' status objects are read (None: trust the Job's Complete condition alone);
    `radswift_image` is the image of the jobs' get and publish containers as the cluster
    pulls it (e.g. REGISTRY/radswift:TAG; None: the JobSpec's default).
    """
    cfg = configuration(kubeconfig, host=host)
    return KubernetesBackend(
        k8s.ApiClient(cfg),
        namespace=namespace,
        platform=Platform(platform),
        store=store,
        pull_grace=pull_grace,
        tick=tick,
        max_backoff=max_backoff,
        radswift_image=radswift_image,
        retention_seconds=retention_seconds,
    )
