"""Jobs run for real: the Job's pod template played by rootful podman, against the real Swift.

The radswift image is built from this checkout (deploy/scripts/build-image.sh, tagged by a
hash of the sources, so a build happens only when they changed); the processor image is
busybox (deploy/scripts/build-busybox-image.sh). Input is put into the key with
python-swiftclient and output read back with it, so what is checked does not depend on
radswift's own Swift client. Where podman cannot run, every test here is skipped with
podman's own error as the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import job_support
import pytest
from job_support import COPY_ALL, STUDY, objects, put_input, status
from swiftclient.client import Connection

from radswift.dev.demo.backends import source_hash
from radswift.dev.demo.images import remove_stale_images
from radswift.dev.swift import LocalSwift
from radswift.errors import JobError
from radswift.jobs.podman import JobResult, PodmanBackend, PodmanJob
from radswift.jobs.spec import JobSpec

pytestmark = [pytest.mark.podman, pytest.mark.swift, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CONTAINERS_CONF = REPO / "deploy" / "podman" / "containers.conf"
PROCESSOR_IMAGE = "localhost/radswift-busybox:latest"
JOB_TIMEOUT = 120.0


@pytest.fixture(scope="session")
def podman_env() -> dict[str, str]:
    """The environment podman runs with (our containers.conf); skips where podman cannot run."""
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    if os.geteuid() != 0:
        pytest.skip("podman jobs need rootful podman (run the tests as root)")
    try:
        probe = subprocess.run(
            ["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("podman is not installed (apt-get install podman runc catatonit)")
    if probe.returncode != 0:
        pytest.skip(f"podman cannot run here: {probe.stderr.strip()}")
    return env


def _build(podman_env: dict[str, str], argv: list[str]) -> str:
    """Run a build script; its wheels are built by this interpreter (which has pip)."""
    env = {**podman_env, "PYTHON": sys.executable}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        pytest.fail(f"{argv[0]} failed:\n{done.stderr[-4000:]}")
    return done.stdout.strip().splitlines()[-1]


def _image_exists(podman_env: dict[str, str], image: str) -> bool:
    done = subprocess.run(["podman", "image", "exists", image], env=podman_env, check=False)
    return done.returncode == 0


@pytest.fixture(scope="session")
def radswift_image(podman_env: dict[str, str]) -> str:
    """localhost/radswift:test-<hash of the sources>, built once per change of the sources.

    Older test images are removed, so that repeated runs do not fill the disk."""
    image = f"localhost/radswift:test-{source_hash()}"
    if _image_exists(podman_env, image):
        return image
    built = _build(podman_env, [str(REPO / "deploy/scripts/build-image.sh"), "-t", image])
    remove_stale_images(podman_env, image)
    return built


@pytest.fixture(scope="session")
def processor_image(podman_env: dict[str, str]) -> str:
    if _image_exists(podman_env, PROCESSOR_IMAGE):
        return PROCESSOR_IMAGE
    return _build(
        podman_env, [str(REPO / "deploy/scripts/build-busybox-image.sh"), PROCESSOR_IMAGE]
    )


@pytest.fixture
def backend(tmp_path: Path, podman_env: dict[str, str]) -> Iterator[PodmanBackend]:
    """A backend whose jobs are all cleaned up after the test, whatever happened."""
    backend = PodmanBackend(root=tmp_path / "jobs", environ=podman_env)
    yield backend
    for job in backend.jobs():
        backend.cleanup(job)


def new_key() -> str:
    return job_support.new_key("job")


def job_spec(key: str, radswift_image: str, processor_image: str, **changes: object) -> JobSpec:
    values: dict[str, object] = {
        "jid": key,
        "image": processor_image,
        "command": ["sh", "-c", COPY_ALL],
        "wait": "exitfile",
        "radswift_image": radswift_image,
        "cpu": "1",
        "memory": "512Mi",
        "active_deadline_seconds": 300,
    }
    values.update(changes)
    return JobSpec(**values)  # type: ignore[arg-type]


def run_job(
    backend: PodmanBackend, spec: JobSpec, credentials: bytes
) -> tuple[PodmanJob, JobResult]:
    job = backend.run(spec, credentials)
    return job, backend.wait(job, JOB_TIMEOUT)


def explain(backend: PodmanBackend, job: PodmanJob, result: JobResult) -> str:
    logs = "\n".join(f"--- {c}:\n{backend.logs(job, c)}" for c in ("get", "processor", "publish"))
    return f"{result}\n{logs}"


def test_a_job_fetches_its_input_processes_it_and_publishes_it_byte_for_byte(
    backend: PodmanBackend,
    swift: Connection,
    credentials: bytes,
    radswift_image: str,
    processor_image: str,
) -> None:
    key = new_key()
    put_input(swift, key, STUDY)
    job, result = run_job(backend, job_spec(key, radswift_image, processor_image), credentials)
    assert result.succeeded, explain(backend, job, result)
    assert result.exit_codes == {f"{key}-0": {"get": 0, "processor": 0, "publish": 0}}
    assert objects(swift, key, "output/") == {**STUDY, "log.txt": b"done\n"}
    assert status(swift, key)["state"] == "succeeded"
    assert objects(swift, key, "input/") == STUDY  # the input is left as it was


def test_the_credentials_are_private_to_the_job_and_never_in_its_pod_spec(
    backend: PodmanBackend,
    swift: Connection,
    credentials: bytes,
    local_swift: LocalSwift,
    radswift_image: str,
    processor_image: str,
) -> None:
    key = new_key()
    put_input(swift, key, {"a.txt": b"a"})
    job, result = run_job(backend, job_spec(key, radswift_image, processor_image), credentials)
    assert result.succeeded, explain(backend, job, result)
    secret = job.directory / "credentials" / "swift-credentials.cfg"
    assert secret.read_bytes() == credentials
    assert (secret.stat().st_mode & 0o777, secret.stat().st_uid) == (0o400, 1001)
    assert secret.parent.stat().st_mode & 0o777 == 0o500
    assert job.directory.stat().st_mode & 0o777 == 0o700
    assert local_swift.key not in job.manifest.read_text()
    for container in ("get", "processor", "publish"):
        assert local_swift.key not in backend.logs(job, container)
    backend.cleanup(job)
    assert not job.directory.exists()


def test_a_failing_processor_still_publishes_what_it_wrote_and_the_job_fails(
    backend: PodmanBackend,
    swift: Connection,
    credentials: bytes,
    radswift_image: str,
    processor_image: str,
) -> None:
    key = new_key()
    put_input(swift, key, {"a.txt": b"a"})
    crash = "echo partial > /share/outgoing/partial.txt; echo oops >&2; exit 3"
    spec = job_spec(key, radswift_image, processor_image, command=["sh", "-c", crash])
    job, result = run_job(backend, spec, credentials)
    codes = result.exit_codes[f"{key}-0"]
    assert (codes["get"], codes["processor"]) == (0, 3), explain(backend, job, result)
    assert codes["publish"] != 0
    assert not result.succeeded
    assert objects(swift, key, "output/") == {"partial.txt": b"partial\n"}
    assert status(swift, key)["state"] == "failed"
    assert "oops" in backend.logs(job, "processor")


def test_a_failing_get_never_starts_the_processor(
    backend: PodmanBackend,
    swift: Connection,
    credentials: bytes,
    radswift_image: str,
    processor_image: str,
) -> None:
    key = new_key()
    swift.put_container(key)  # a key without any input/ object
    marker = "touch /share/outgoing/processor-ran"
    spec = job_spec(key, radswift_image, processor_image, command=["sh", "-c", marker])
    job, result = run_job(backend, spec, credentials)
    codes = result.exit_codes[f"{key}-0"]
    assert codes["get"] not in (0, None), explain(backend, job, result)
    assert (codes["processor"], codes["publish"]) == (None, None)
    assert result.play_error is not None
    assert not result.succeeded
    assert not (job.directory / "share" / "outgoing" / "processor-ran").exists()
    assert objects(swift, key, "output/") == {}


def test_two_jobs_at_once_are_kept_apart(
    backend: PodmanBackend,
    swift: Connection,
    credentials: bytes,
    radswift_image: str,
    processor_image: str,
) -> None:
    keys = [new_key(), new_key()]
    inputs = {key: {f"only-{key}.txt": key.encode()} for key in keys}
    list_share = "ls -R /share/incoming > /share/outgoing/seen.txt"
    jobs = []
    for key in keys:
        put_input(swift, key, inputs[key])
        spec = job_spec(key, radswift_image, processor_image, command=["sh", "-c", list_share])
        jobs.append(backend.run(spec, credentials))
    results = [backend.wait(job, JOB_TIMEOUT) for job in jobs]
    for key, job, result in zip(keys, jobs, results, strict=True):
        assert result.succeeded, explain(backend, job, result)
        seen = objects(swift, key, "output/")["seen.txt"].decode()
        assert f"only-{key}.txt" in seen
        other = next(k for k in keys if k != key)
        assert other not in seen


def test_n_workers_share_one_input_and_exactly_one_upload(
    backend: PodmanBackend,
    swift: Connection,
    credentials: bytes,
    radswift_image: str,
    processor_image: str,
) -> None:
    key = new_key()
    put_input(swift, key, {"a.txt": b"a"})
    part = 'cat /share/incoming/a.txt > "/share/outgoing/part-$JOB_COMPLETION_INDEX.txt"'
    spec = job_spec(key, radswift_image, processor_image, command=["sh", "-c", part], workers=2)
    job, result = run_job(backend, spec, credentials)
    assert result.succeeded, explain(backend, job, result)
    assert set(result.exit_codes) == {f"{key}-0", f"{key}-1"}
    assert objects(swift, key, "output/") == {"part-0.txt": b"a", "part-1.txt": b"a"}
    assert status(swift, key)["state"] == "succeeded"


def test_play_to_output_visible_in_swift_is_measured(
    backend: PodmanBackend,
    swift: Connection,
    credentials: bytes,
    radswift_image: str,
    processor_image: str,
    record_property: object,
) -> None:
    """A trivial job end to end; the time is reported (docs/benchmarks.md), bounded loosely."""
    key = new_key()
    put_input(swift, key, {"a.txt": b"a"})
    started = time.monotonic()
    job = backend.run(job_spec(key, radswift_image, processor_image), credentials)
    while "log.txt" not in objects(swift, key, "output/"):
        assert time.monotonic() - started < JOB_TIMEOUT, "output never appeared"
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    backend.wait(job, JOB_TIMEOUT)
    print(f"podman kube play -> output visible in Swift: {elapsed:.2f} s")
    record_property("play_to_output_seconds", round(elapsed, 2))  # type: ignore[operator]
    assert elapsed < 60


def test_a_job_past_its_timeout_raises_and_cleanup_stops_it(
    backend: PodmanBackend,
    swift: Connection,
    credentials: bytes,
    radswift_image: str,
    processor_image: str,
    podman_env: dict[str, str],
) -> None:
    key = new_key()
    put_input(swift, key, {"a.txt": b"a"})
    spec = job_spec(key, radswift_image, processor_image, command=["sleep", "300"])
    job = backend.run(spec, credentials)
    with pytest.raises(JobError, match="did not finish"):
        backend.wait(job, 15)
    backend.cleanup(job)
    left = subprocess.run(["podman", "pod", "exists", job.pods[0]], env=podman_env, check=False)
    assert left.returncode != 0
    assert not job.directory.exists()


def test_a_restarted_backend_finds_its_jobs_and_waits_for_them(
    backend: PodmanBackend,
    swift: Connection,
    credentials: bytes,
    radswift_image: str,
    processor_image: str,
    podman_env: dict[str, str],
) -> None:
    key = new_key()
    put_input(swift, key, {"a.txt": b"a"})
    job = backend.run(job_spec(key, radswift_image, processor_image), credentials)
    backend.wait(job, JOB_TIMEOUT)
    restarted = PodmanBackend(root=backend.root, environ=podman_env)
    (found,) = restarted.jobs()
    assert found == job
    assert restarted.wait(found, JOB_TIMEOUT).succeeded
    assert restarted.logs(found, "publish").strip()  # the logs are still readable
