"""Logs of the three steps (init `get`, `processor`, `publish`) of every worker's pod,
tail or whole, and followed while the step runs.

Against FakeKubernetesAPI (a fake API server, not Kubernetes)."""

from __future__ import annotations

import threading

import pytest
from kube_helpers import spec

from fakes import kube_workloads as kw
from fakes.kube_cluster import FakeKubernetesAPI
from radswift.errors import NotFound
from radswift.jobs.kube import KubernetesBackend
from radswift.jobs.lifecycle import Step

WORKERS = 3


def test_each_step_of_each_worker_has_its_own_log(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend
) -> None:
    backend.submit(spec("logs", workers=WORKERS))
    cluster.kubelet("logs", kw.running)
    for worker, pod in enumerate(cluster.pods_of("logs")):
        for step in Step:
            cluster.write_log(pod, step.value, f"{step.value} of worker {worker}: line 1\nline 2\n")
    for worker in range(WORKERS):
        for step in Step:
            text = "".join(backend.logs("logs", step, worker=worker, tail=None))
            assert text == f"{step.value} of worker {worker}: line 1\nline 2\n"
            assert "".join(backend.logs("logs", step, worker=worker, tail=1)) == "line 2\n"


def test_a_followed_log_streams_until_the_step_ends(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend
) -> None:
    backend.submit(spec("follow"))
    cluster.kubelet("follow", kw.running)
    pod = cluster.pods_of("follow")[0]
    cluster.write_log(pod, "processor", "epoch 1\n")
    chunks: list[str] = []
    stream = backend.logs("follow", Step.PROCESSOR, follow=True, tail=None)
    reader = threading.Thread(target=lambda: chunks.extend(stream))
    reader.start()
    cluster.wait_for(lambda: chunks == ["epoch 1\n"])
    cluster.write_log(pod, "processor", "epoch 2\n")
    cluster.wait_for(lambda: "".join(chunks) == "epoch 1\nepoch 2\n")
    assert reader.is_alive()  # still following: the processor runs
    cluster.containers_exit("follow", processor=0, publish=0)
    reader.join(10)
    assert not reader.is_alive()


def test_logs_of_a_step_not_started_or_a_missing_worker_are_not_found(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend
) -> None:
    backend.submit(spec("early"))
    with pytest.raises(NotFound, match="no output yet"):
        list(backend.logs("early", Step.PROCESSOR))
    with pytest.raises(NotFound, match="no pod for worker 5"):
        list(backend.logs("early", Step.PROCESSOR, worker=5))
