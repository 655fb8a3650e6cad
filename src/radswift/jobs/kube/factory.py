"""pman's backend table entries `kubernetes` and `openshift` (radswift.jobs.managed.BACKENDS).

The composition root (radswift.cli.man) puts what a cluster backend needs into
`BackendConfig.options`: `namespace` (None: the service account's namespace in a pod,
else `default`), `kubeconfig` (None: in-cluster), `store` (where status objects are
read), `radswift_image` (the get/publish image as the cluster pulls it) and
`retention_seconds` (finished jobs deleted after that long; None keeps them for the
Jobs' own ttlSecondsAfterFinished).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from radswift.jobs.kube import KubernetesBackend, kubernetes_backend
from radswift.jobs.managed import BackendConfig
from radswift.jobs.spec import DEFAULT_NAMESPACE, Platform
from radswift.store.base import ObjectStore

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def from_config(config: BackendConfig) -> KubernetesBackend:
    return _build(config, Platform.KUBERNETES)


def openshift_from_config(config: BackendConfig) -> KubernetesBackend:
    return _build(config, Platform.OPENSHIFT)


def _build(config: BackendConfig, platform: Platform) -> KubernetesBackend:
    options = config.options
    kubeconfig = _text(options, "kubeconfig")
    store = options.get("store")
    retention = options.get("retention_seconds")
    return kubernetes_backend(
        _text(options, "namespace") or _pod_namespace(kubeconfig) or DEFAULT_NAMESPACE,
        Path(kubeconfig) if kubeconfig else None,
        platform,
        store if isinstance(store, ObjectStore) else None,
        radswift_image=_text(options, "radswift_image"),
        retention_seconds=float(retention) if retention is not None else None,
    )


def _text(options: Any, name: str) -> str | None:
    value = options.get(name)
    return str(value) if value else None


def _pod_namespace(kubeconfig: str | None) -> str | None:
    """In a pod (no kubeconfig), the namespace of its service account."""
    if kubeconfig is not None:
        return None
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
