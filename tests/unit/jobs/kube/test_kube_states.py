"""A job's state as pman's Kubernetes backend reports it, for every way a Job can end.

Against FakeKubernetesAPI (a fake API server; its "kubelet" moves the pods): the backend
learns everything from its watches, and tells the listener."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from kube_helpers import Jobs, Recorder, spec

from fakes import kube_workloads as kw
from fakes.kube_cluster import FakeKubernetesAPI
from radswift.jobs.kube import KubernetesBackend
from radswift.jobs.lifecycle import JobState, Step
from radswift.jobs.spec import JobSpec


def test_a_job_is_notstarted_while_pending_then_started_then_succeeded(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, jobs: Jobs
) -> None:
    backend.submit(spec("study-1"), submitted={"jid": "study-1"}, spec_hash="abc")
    jobs.wait("study-1", JobState.NOTSTARTED)
    assert backend.observe("study-1").state is JobState.NOTSTARTED
    cluster.kubelet("study-1", kw.init_running)
    cluster.kubelet("study-1", kw.running)
    started = jobs.wait("study-1", JobState.STARTED)
    assert started.steps["get"]["state"] == "terminated"
    assert started.steps["processor"]["state"] == "running"
    jobs.publishes("study-1", "succeeded")
    jobs.exit("study-1", processor=0, publish=0)
    done = jobs.wait("study-1", JobState.SUCCEEDED)
    assert done.finished_at is not None and done.exit_code == 0
    assert jobs.recorder.states("study-1") == [
        JobState.NOTSTARTED,
        JobState.STARTED,
        JobState.SUCCEEDED,
    ]
    assert backend.observe("study-1").state is JobState.SUCCEEDED


def test_the_job_is_created_labelled_and_annotated_as_pmans_in_its_namespace(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend
) -> None:
    backend.submit(spec("study-2"), submitted={"jid": "study-2", "cmd": "x"}, spec_hash="h1")
    job = cluster.objects("jobs")["study-2"]
    assert job["metadata"]["namespace"] == "radswift"  # the backend's, not the spec's
    assert job["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "radswift-pman"
    assert job["metadata"]["labels"]["radswift.io/jid"] == "study-2"
    notes = job["metadata"]["annotations"]
    assert notes["radswift.io/spec-hash"] == "h1"
    assert notes["radswift.io/jid"] == notes["radswift.io/key"] == "study-2"
    assert json.loads(notes["radswift.io/submitted"]) == {"jid": "study-2", "cmd": "x"}
    template = job["spec"]["template"]["metadata"]
    assert template["labels"]["app.kubernetes.io/managed-by"] == "radswift-pman"
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["ttlSecondsAfterFinished"] > 0


def test_the_jobs_radswift_containers_use_the_image_the_backend_is_given(
    cluster: FakeKubernetesAPI, make_backend: Callable[..., KubernetesBackend]
) -> None:
    backend = make_backend(radswift_image="registry.example.org/radswift:0.1.0")
    backend.submit(spec("pulled"))
    pod = cluster.objects("jobs")["pulled"]["spec"]["template"]["spec"]
    images = {c["name"]: c["image"] for c in [*pod["initContainers"], *pod["containers"]]}
    assert images["get"] == images["publish"] == "registry.example.org/radswift:0.1.0"
    assert images["processor"] == "localhost/pl-simpledsapp:1"


def test_submitting_a_jid_twice_is_a_no_op(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend
) -> None:
    backend.submit(spec("study-3"))
    backend.submit(spec("study-3"))
    creates = [s for s in cluster.seen if s.method == "POST" and s.path.endswith("/jobs")]
    assert [s.status for s in creates] == [200, 409]
    assert len(cluster.pods_of("study-3")) == 1


def test_a_processor_exit_code_fails_the_job_with_that_code(jobs: Jobs) -> None:
    jobs.run("exit-3")
    jobs.publishes("exit-3", "failed", exit_code=3)
    jobs.exit("exit-3", processor=3, publish=1)
    failed = jobs.wait("exit-3", JobState.FAILED)
    assert (failed.failed_step, failed.reason, failed.exit_code) == (
        Step.PROCESSOR,
        "exit code 3",
        3,
    )


def test_one_failing_worker_of_three_fails_the_job_with_its_exit_code(jobs: Jobs) -> None:
    jobs.started("three", workers=3)
    jobs.exit("three", processor=0, publish=0, workers=[0, 1])
    jobs.exit("three", processor=5, publish=0, workers=[2])
    failed = jobs.wait("three", JobState.FAILED)
    assert (failed.failed_step, failed.reason, failed.exit_code) == (
        Step.PROCESSOR,
        "exit code 5",
        5,
    )


def test_an_oom_killed_processor_says_oomkilled(jobs: Jobs) -> None:
    jobs.run("oom")
    jobs.exit("oom", processor=137, publish=1, reason="OOMKilled")
    failed = jobs.wait("oom", JobState.FAILED)
    assert (failed.failed_step, failed.reason) == (Step.PROCESSOR, "OOMKilled")


def test_a_failed_get_fails_the_job_at_step_get(cluster: FakeKubernetesAPI, jobs: Jobs) -> None:
    jobs.submit("no-input")
    cluster.kubelet("no-input", lambda p: kw.init_failed(p, 3))
    failed = jobs.wait("no-input", JobState.FAILED)
    assert (failed.failed_step, failed.reason, failed.exit_code) == (Step.GET, "exit code 3", 3)


def test_the_deadline_passing_says_deadline_exceeded(
    cluster: FakeKubernetesAPI, jobs: Jobs
) -> None:
    jobs.started("slow")
    cluster.exceed_deadline("slow")
    assert jobs.wait("slow", JobState.FAILED).reason == "DeadlineExceeded"


def test_an_evicted_pod_says_evicted(cluster: FakeKubernetesAPI, jobs: Jobs) -> None:
    jobs.run("evicted")
    cluster.kubelet("evicted", kw.evicted)
    failed = jobs.wait("evicted", JobState.FAILED)
    assert failed.reason == "Evicted" and "low on resource" in (failed.detail or "")


def test_the_publishers_upload_failure_fails_the_job_at_step_publish(jobs: Jobs) -> None:
    jobs.run("upload")
    jobs.publishes("upload", "upload-failed", message="Swift said 507")
    jobs.exit("upload", processor=0, publish=1)
    failed = jobs.wait("upload", JobState.FAILED)
    assert (failed.failed_step, failed.reason, failed.detail) == (
        Step.PUBLISH,
        "upload-failed",
        "Swift said 507",
    )


def test_a_complete_job_whose_status_object_is_not_succeeded_is_not_a_success(
    jobs: Jobs,
) -> None:
    jobs.run("silent")
    jobs.exit("silent", processor=0, publish=0)
    failed = jobs.wait("silent", JobState.FAILED)
    assert (failed.failed_step, failed.reason) == (Step.PUBLISH, "no status object")


def test_backoff_limit_exceeded_without_a_known_cause_is_reported_as_such(
    cluster: FakeKubernetesAPI, jobs: Jobs
) -> None:
    jobs.submit("vanished")
    cluster.kubelet("vanished", lambda p: p["status"].update(phase="Failed"))
    assert jobs.wait("vanished", JobState.FAILED).reason == "BackoffLimitExceeded"


def test_an_image_that_cannot_be_pulled_fails_the_job_after_the_grace_time_and_stops_it(
    cluster: FakeKubernetesAPI, make_backend: Callable[..., KubernetesBackend], recorder: Recorder
) -> None:
    backend = make_backend(pull_grace=0.5)
    backend.start(recorder)
    backend.submit(spec("bad-image", image="localhost/does-not-exist:1"))
    cluster.kubelet("bad-image", lambda p: kw.pull_failing(p, "processor"))
    failed = recorder.wait_state("bad-image", JobState.FAILED)
    assert (failed.failed_step, failed.reason) == (Step.PROCESSOR, "ImagePullBackOff")
    assert "does-not-exist" in (failed.detail or "")
    cluster.wait_for(lambda: cluster.objects("jobs")["bad-image"]["spec"].get("suspend") is True)
    assert cluster.pods_of("bad-image") == []  # stopped: no pod waits for the image forever


def test_a_cancelled_job_ends_finished_with_error_cancelled(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, jobs: Jobs
) -> None:
    jobs.started("cancel-me")
    backend.cancel("cancel-me")
    assert jobs.wait("cancel-me", JobState.FAILED).reason == "cancelled"
    assert cluster.pods_of("cancel-me") == []


def test_a_job_deleted_behind_pmans_back_is_never_started_forever(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, jobs: Jobs
) -> None:
    jobs.started("deleted")
    with cluster.cond:
        cluster.delete("jobs", "deleted", "Background")
    assert jobs.wait("deleted", JobState.FAILED).reason == "deleted"
    assert backend.observe("deleted").state is JobState.UNDEFINED


@dataclass(frozen=True, kw_only=True)
class _SpecOnAnotherKey(JobSpec):
    """A job that reads and publishes another key than its jid (pman's `input_key`)."""

    @property
    def storage_key(self) -> str:
        return "shared-study"


def test_the_status_object_is_read_from_the_jobs_key_not_its_jid(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, jobs: Jobs
) -> None:
    backend.submit(_SpecOnAnotherKey(jid="run-7", image="img", command=("x",)))
    assert (
        cluster.objects("jobs")["run-7"]["metadata"]["annotations"]["radswift.io/key"]
        == "shared-study"
    )
    cluster.kubelet("run-7", kw.running)
    jobs.publishes("shared-study", "succeeded")
    jobs.exit("run-7", processor=0, publish=0)
    jobs.wait("run-7", JobState.SUCCEEDED)
