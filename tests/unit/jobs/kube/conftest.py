"""pman's Kubernetes backend against FakeKubernetesAPI (a FAKE API server, not Kubernetes).

Status objects are written to a LocalStore (a directory), where the backend reads them
through radswift.publisher.status as it reads them from Swift in a cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kube_helpers import Jobs, Recorder

from fakes.kube_cluster import FakeKubernetesAPI
from radswift.jobs.kube import KubernetesBackend, kubernetes_backend
from radswift.store.local import LocalStore


@pytest.fixture
def cluster() -> Iterator[FakeKubernetesAPI]:
    with FakeKubernetesAPI(namespace="radswift") as api:
        yield api


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "store")
    yield s
    s.close()


@pytest.fixture
def make_backend(
    cluster: FakeKubernetesAPI, store: LocalStore, tmp_path: Path
) -> Iterator[Callable[..., KubernetesBackend]]:
    """Backends built as pman builds them: kubernetes_backend(namespace, kubeconfig, ...)."""
    made: list[KubernetesBackend] = []
    kubeconfig = cluster.kubeconfig(tmp_path / "kubeconfig")

    def make(**options: object) -> KubernetesBackend:
        options = {"tick": 0.1, "max_backoff": 0.5, **options}  # fast in tests
        backend = kubernetes_backend("radswift", kubeconfig, "kubernetes", store, **options)  # type: ignore[arg-type]
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def backend(
    make_backend: Callable[..., KubernetesBackend], recorder: Recorder
) -> KubernetesBackend:
    b = make_backend()
    b.start(recorder)
    assert b.wait_synced()
    return b


@pytest.fixture
def jobs(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder, store: LocalStore
) -> Jobs:
    """Jobs on the started `backend`, told as their life goes (kube_helpers.Jobs)."""
    return Jobs(cluster, backend, recorder, store)
