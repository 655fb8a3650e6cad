"""The backend's watches survive what API servers do to them: cut connections, compacted
history (410 Gone) and outages; what happened meanwhile is still reported.

Against FakeKubernetesAPI (a fake API server, not Kubernetes)."""

from __future__ import annotations

from kube_helpers import Jobs, Recorder, spec

from fakes import kube_workloads as kw
from fakes.kube_cluster import FakeKubernetesAPI
from radswift.jobs.kube import KubernetesBackend
from radswift.jobs.lifecycle import JobState


def _watches(cluster: FakeKubernetesAPI, resource: str) -> list[dict[str, str]]:
    return [
        s.params
        for s in cluster.seen
        if s.path.endswith(resource) and s.params.get("watch") == "true"
    ]


def test_a_cut_watch_resumes_from_the_last_resource_version_without_relisting(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("cut"))
    recorder.wait_state("cut", JobState.NOTSTARTED)
    lists_before = backend.pod_informer.lists
    cluster.drop_watches()
    cluster.kubelet("cut", kw.running)  # happens while no watch is connected
    recorder.wait_state("cut", JobState.STARTED)
    resumed = _watches(cluster, "/pods")[-1]
    assert int(resumed["resourceVersion"]) > 1000  # from where it was, not from scratch
    assert backend.pod_informer.lists == lists_before


def test_410_gone_in_the_stream_relists_and_nothing_is_missed(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, jobs: Jobs
) -> None:
    jobs.started("gone")
    lists_before = backend.job_informer.lists
    cluster.compact()
    cluster.drop_watches()  # reconnecting from the compacted version gets an ERROR 410 event
    jobs.publishes("gone", "succeeded")
    jobs.exit("gone", processor=0, publish=0)
    jobs.wait("gone", JobState.SUCCEEDED)
    cluster.wait_for(lambda: backend.job_informer.lists > lists_before)


def test_410_gone_as_an_http_status_relists_too(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    cluster.gone_as_http = True
    backend.submit(spec("gone-http"))
    recorder.wait_state("gone-http", JobState.NOTSTARTED)
    lists_before = backend.pod_informer.lists
    cluster.compact()
    cluster.drop_watches()
    cluster.kubelet("gone-http", kw.running)
    recorder.wait_state("gone-http", JobState.STARTED)
    assert backend.pod_informer.lists > lists_before


def test_watches_reconnect_after_the_api_refuses_them_for_a_while(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("outage"))
    recorder.wait_state("outage", JobState.NOTSTARTED)
    cluster.rules.discard(("watch", "pods"))  # e.g. an operator editing the Role
    cluster.drop_watches()
    cluster.wait_for(lambda: any(s.status == 403 for s in cluster.seen))
    # said as an operator can act on it:
    cluster.wait_for(lambda: any("'watch' on 'pods'" in p for p in backend.problems()))
    cluster.kubelet("outage", kw.running)
    cluster.rules.add(("watch", "pods"))
    recorder.wait_state("outage", JobState.STARTED)
    cluster.wait_for(lambda: backend.problems() == [])


def test_a_job_deleted_while_the_watch_was_down_is_noticed_at_the_relist(
    cluster: FakeKubernetesAPI, jobs: Jobs
) -> None:
    jobs.started("lost")
    cluster.compact()
    with cluster.cond:  # no watch event reaches the backend: its version is compacted away
        cluster.state.events.clear()
        cluster.delete("jobs", "lost", "Background")
        cluster.state.events.clear()
    cluster.drop_watches()
    assert jobs.wait("lost", JobState.FAILED).reason == "deleted"


def test_observe_answers_from_the_watches_without_a_request_per_call(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, jobs: Jobs
) -> None:
    jobs.started("quiet")
    before = len(cluster.seen)
    states = {backend.observe("quiet").state for _ in range(100)}
    assert states == {JobState.STARTED}
    assert backend.observe("never-submitted").state is JobState.UNDEFINED
    assert len(cluster.seen) == before
