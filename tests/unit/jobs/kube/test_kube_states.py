"""A job's state as pman's Kubernetes backend reports it, for every way a Job can end.

Against FakeKubernetesAPI (a fake API server; its "kubelet" moves the pods): the backend
learns everything from its watches, and tells the listener."""

from __future__ import annotations

import json
from dataclasses import dataclass

from kube_helpers import Recorder, publish_status, spec

from fakes import kube_workloads as kw
from fakes.kube_cluster import FakeKubernetesAPI
from radswift.jobs.kube import KubernetesBackend
from radswift.jobs.lifecycle import JobState, Step
from radswift.jobs.spec import JobSpec
from radswift.store.local import LocalStore


def test_a_job_is_notstarted_while_pending_then_started_then_succeeded(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder, store: LocalStore
) -> None:
    backend.submit(spec("study-1"), submitted={"jid": "study-1"}, spec_hash="abc")
    recorder.wait_state("study-1", JobState.NOTSTARTED)
    assert backend.observe("study-1").state is JobState.NOTSTARTED
    cluster.kubelet("study-1", kw.init_running)
    cluster.kubelet("study-1", kw.running)
    started = recorder.wait_state("study-1", JobState.STARTED)
    assert started.steps["get"]["state"] == "terminated"
    assert started.steps["processor"]["state"] == "running"
    publish_status(store, "study-1", "succeeded")
    cluster.kubelet(
        "study-1", lambda p: kw.terminated(p, processor=0, publish=0, processor_reason=None)
    )
    done = recorder.wait_state("study-1", JobState.SUCCEEDED)
    assert done.finished_at is not None and done.exit_code == 0
    assert recorder.states("study-1") == [JobState.NOTSTARTED, JobState.STARTED, JobState.SUCCEEDED]
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
    cluster: FakeKubernetesAPI, make_backend
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


def test_a_processor_exit_code_fails_the_job_with_that_code(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder, store: LocalStore
) -> None:
    backend.submit(spec("exit-3"))
    cluster.kubelet("exit-3", kw.running)
    publish_status(store, "exit-3", "failed", exit_code=3)
    cluster.kubelet(
        "exit-3", lambda p: kw.terminated(p, processor=3, publish=1, processor_reason=None)
    )
    failed = recorder.wait_state("exit-3", JobState.FAILED)
    assert (failed.failed_step, failed.reason, failed.exit_code) == (
        Step.PROCESSOR,
        "exit code 3",
        3,
    )


def test_one_failing_worker_of_three_fails_the_job_with_its_exit_code(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("three", workers=3))
    cluster.kubelet("three", kw.running)
    recorder.wait_state("three", JobState.STARTED)
    cluster.kubelet(
        "three",
        lambda p: kw.terminated(p, processor=0, publish=0, processor_reason=None),
        workers=[0, 1],
    )
    cluster.kubelet(
        "three",
        lambda p: kw.terminated(p, processor=5, publish=0, processor_reason=None),
        workers=[2],
    )
    failed = recorder.wait_state("three", JobState.FAILED)
    assert (failed.failed_step, failed.reason, failed.exit_code) == (
        Step.PROCESSOR,
        "exit code 5",
        5,
    )


def test_an_oom_killed_processor_says_oomkilled(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("oom"))
    cluster.kubelet("oom", kw.running)
    cluster.kubelet(
        "oom", lambda p: kw.terminated(p, processor=137, publish=1, processor_reason="OOMKilled")
    )
    failed = recorder.wait_state("oom", JobState.FAILED)
    assert (failed.failed_step, failed.reason) == (Step.PROCESSOR, "OOMKilled")


def test_a_failed_get_fails_the_job_at_step_get(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("no-input"))
    cluster.kubelet("no-input", lambda p: kw.init_failed(p, 3))
    failed = recorder.wait_state("no-input", JobState.FAILED)
    assert (failed.failed_step, failed.reason, failed.exit_code) == (Step.GET, "exit code 3", 3)


def test_the_deadline_passing_says_deadline_exceeded(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("slow"))
    cluster.kubelet("slow", kw.running)
    recorder.wait_state("slow", JobState.STARTED)
    cluster.exceed_deadline("slow")
    assert recorder.wait_state("slow", JobState.FAILED).reason == "DeadlineExceeded"


def test_an_evicted_pod_says_evicted(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("evicted"))
    cluster.kubelet("evicted", kw.running)
    cluster.kubelet("evicted", kw.evicted)
    failed = recorder.wait_state("evicted", JobState.FAILED)
    assert failed.reason == "Evicted" and "low on resource" in (failed.detail or "")


def test_the_publishers_upload_failure_fails_the_job_at_step_publish(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder, store: LocalStore
) -> None:
    backend.submit(spec("upload"))
    cluster.kubelet("upload", kw.running)
    publish_status(store, "upload", "upload-failed", message="Swift said 507")
    cluster.kubelet(
        "upload", lambda p: kw.terminated(p, processor=0, publish=1, processor_reason=None)
    )
    failed = recorder.wait_state("upload", JobState.FAILED)
    assert (failed.failed_step, failed.reason, failed.detail) == (
        Step.PUBLISH,
        "upload-failed",
        "Swift said 507",
    )


def test_a_complete_job_whose_status_object_is_not_succeeded_is_not_a_success(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("silent"))
    cluster.kubelet("silent", kw.running)
    cluster.kubelet(
        "silent", lambda p: kw.terminated(p, processor=0, publish=0, processor_reason=None)
    )
    failed = recorder.wait_state("silent", JobState.FAILED)
    assert (failed.failed_step, failed.reason) == (Step.PUBLISH, "no status object")


def test_backoff_limit_exceeded_without_a_known_cause_is_reported_as_such(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("vanished"))
    cluster.kubelet("vanished", lambda p: p["status"].update(phase="Failed"))
    assert recorder.wait_state("vanished", JobState.FAILED).reason == "BackoffLimitExceeded"


def test_an_image_that_cannot_be_pulled_fails_the_job_after_the_grace_time_and_stops_it(
    cluster: FakeKubernetesAPI, make_backend, recorder: Recorder
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
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("cancel-me"))
    cluster.kubelet("cancel-me", kw.running)
    recorder.wait_state("cancel-me", JobState.STARTED)
    backend.cancel("cancel-me")
    assert recorder.wait_state("cancel-me", JobState.FAILED).reason == "cancelled"
    assert cluster.pods_of("cancel-me") == []


def test_a_job_deleted_behind_pmans_back_is_never_started_forever(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder
) -> None:
    backend.submit(spec("deleted"))
    cluster.kubelet("deleted", kw.running)
    recorder.wait_state("deleted", JobState.STARTED)
    with cluster.cond:
        cluster.delete("jobs", "deleted", "Background")
    assert recorder.wait_state("deleted", JobState.FAILED).reason == "deleted"
    assert backend.observe("deleted").state is JobState.UNDEFINED


@dataclass(frozen=True, kw_only=True)
class _SpecOnAnotherKey(JobSpec):
    """A job that reads and publishes another key than its jid (pman's `input_key`)."""

    @property
    def storage_key(self) -> str:
        return "shared-study"


def test_the_status_object_is_read_from_the_jobs_key_not_its_jid(
    cluster: FakeKubernetesAPI, backend: KubernetesBackend, recorder: Recorder, store: LocalStore
) -> None:
    backend.submit(_SpecOnAnotherKey(jid="run-7", image="img", command=("x",)))
    assert (
        cluster.objects("jobs")["run-7"]["metadata"]["annotations"]["radswift.io/key"]
        == "shared-study"
    )
    cluster.kubelet("run-7", kw.running)
    publish_status(store, "shared-study", "succeeded")
    cluster.kubelet(
        "run-7", lambda p: kw.terminated(p, processor=0, publish=0, processor_reason=None)
    )
    recorder.wait_state("run-7", JobState.SUCCEEDED)
