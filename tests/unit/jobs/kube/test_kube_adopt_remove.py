"""The cluster is the source of truth: a new backend (pman restarted with an empty
registry) takes back every job it owns; remove deletes everything a job made; the reaper
removes finished jobs after the retention period.

Against FakeKubernetesAPI (a fake API server, not Kubernetes)."""

from __future__ import annotations

from collections.abc import Callable

from kube_helpers import Jobs, Recorder, publish_status, spec

from fakes import kube_workloads as kw
from fakes.kube_cluster import FakeKubernetesAPI
from radswift.jobs.kube import KubernetesBackend
from radswift.jobs.lifecycle import JobState, Step
from radswift.store.local import LocalStore


def test_a_new_backend_adopts_running_and_finished_jobs_with_their_submit_documents(
    cluster: FakeKubernetesAPI,
    make_backend: Callable[..., KubernetesBackend],
    store: LocalStore,
) -> None:
    first = make_backend()
    for jid in ("running-1", "done-1", "failed-1"):
        first.submit(spec(jid), submitted={"jid": jid, "args": ["--x"]}, spec_hash=f"hash-{jid}")
    first.close()  # pman goes away; the jobs go on without it
    cluster.kubelet("running-1", kw.running)
    cluster.kubelet("done-1", kw.running)
    publish_status(store, "done-1", "succeeded")
    cluster.containers_exit("done-1", processor=0, publish=0)
    cluster.kubelet("failed-1", kw.running)
    cluster.containers_exit("failed-1", processor=2, publish=1)
    with cluster.cond:  # a Job of someone else in the namespace is not pman's
        template = {"metadata": {}, "spec": {"containers": []}}
        other = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "other"}}
        cluster.create("jobs", {**other, "spec": {"template": template}})

    adopted = {a.jid: a for a in make_backend().adopt()}

    assert set(adopted) == {"running-1", "done-1", "failed-1"}
    assert adopted["running-1"].observation.state is JobState.STARTED
    assert adopted["done-1"].observation.state is JobState.SUCCEEDED
    failed = adopted["failed-1"].observation
    assert (failed.state, failed.failed_step, failed.reason) == (
        JobState.FAILED,
        Step.PROCESSOR,
        "exit code 2",
    )
    assert adopted["done-1"].submitted == {"jid": "done-1", "args": ["--x"]}
    assert adopted["done-1"].spec_hash == "hash-done-1"


def test_an_adopting_backend_keeps_reporting_the_jobs_it_took_back(
    cluster: FakeKubernetesAPI, make_backend: Callable[..., KubernetesBackend], recorder: Recorder
) -> None:
    make_backend().submit(spec("carry-on"))
    second = make_backend()
    second.start(recorder)
    cluster.kubelet("carry-on", kw.running)
    recorder.wait_state("carry-on", JobState.STARTED)
    assert second.observe("carry-on").state is JobState.STARTED


def test_remove_deletes_the_job_its_pods_and_its_claim(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("wide", workers=3))
    claim = cluster.objects("persistentvolumeclaims")["wide-share"]
    assert (
        claim["metadata"]["ownerReferences"][0]["uid"]
        == cluster.objects("jobs")["wide"]["metadata"]["uid"]
    )
    assert len(cluster.pods_of("wide")) == 3
    backend.remove("wide")
    assert "wide" not in cluster.objects("jobs")
    assert cluster.pods_of("wide") == []
    assert "wide-share" not in cluster.objects("persistentvolumeclaims")
    delete = next(s for s in cluster.seen if s.method == "DELETE" and s.path.endswith("/jobs/wide"))
    assert delete.params["propagationPolicy"] == "Background"
    backend.remove("wide")  # already gone: nothing to do, no error
    assert backend.observe("wide").state is JobState.UNDEFINED


def test_the_reaper_removes_only_jobs_finished_longer_ago_than_the_retention(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, jobs: Jobs
) -> None:
    for jid in ("old", "running"):
        jobs.run(jid)
    jobs.publishes("old", "succeeded")
    jobs.exit("old", processor=0, publish=0)
    finished = jobs.wait("old", JobState.SUCCEEDED).finished_at
    jobs.wait("running", JobState.STARTED)
    assert finished is not None
    assert backend.reap(retention_seconds=3600, now=finished + 60) == []
    assert backend.reap(retention_seconds=3600, now=finished + 3601) == ["old"]
    assert set(cluster.objects("jobs")) == {"running"}
