"""Jobs run by LocalBackend: get, processor and publish as host processes, real Swift.

Input is put into the key with python-swiftclient and output read back with it, so what
is checked does not depend on radswift's own Swift client. The emissary is built with
gcc, as `radswift publish build-emissary` does.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import job_support
import pytest
from job_support import COPY_ALL, STUDY, objects, put_input, status
from swiftclient.client import Connection

from radswift.dev.swift import LocalSwift
from radswift.errors import InvalidInput, JobError
from radswift.jobs.backend import JobBackend, JobResult
from radswift.jobs.local import LocalBackend, LocalJob
from radswift.jobs.spec import JobSpec

pytestmark = [
    pytest.mark.swift,
    pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the emissary"),
]

JOB_TIMEOUT = 60.0
LEAKY = "OS_PASSWORD"  # a credential variable of the caller, never passed to any step


@pytest.fixture(scope="module")
def emissary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once for the module; every backend below reuses it."""
    backend = LocalBackend(tmp_path_factory.mktemp("emissary"), environ={})
    return backend.ensure_emissary()


@pytest.fixture
def backend(tmp_path: Path, emissary: Path) -> Iterator[LocalBackend]:
    environ = {**os.environ, LEAKY: "caller-secret-" + uuid.uuid4().hex}
    backend = LocalBackend(tmp_path / "jobs", environ=environ, emissary=emissary, grace=5.0)
    yield backend
    for name in list(backend._runs):
        backend.cleanup(LocalJob(name=name, directory=backend.root / name))


def new_key() -> str:
    return job_support.new_key("local")


def spec(key: str, script: str, **changes: object) -> JobSpec:
    values: dict[str, object] = {
        "jid": key, "image": "host", "command": ["sh", "-c", script], "wait": "exitfile",
    }  # fmt: skip
    values.update(changes)
    return JobSpec(**values)  # type: ignore[arg-type]


def explain(backend: LocalBackend, job: LocalJob, result: JobResult) -> str:
    logs = "\n".join(f"--- {c}:\n{backend.logs(job, c)}" for c in ("get", "processor", "publish"))
    return f"{result}\n{logs}"


def test_both_backends_satisfy_the_job_backend_protocol(tmp_path: Path) -> None:
    from radswift.jobs.podman import PodmanBackend, PodmanJob

    local: JobBackend[LocalJob] = LocalBackend(tmp_path, environ={})
    podman: JobBackend[PodmanJob] = PodmanBackend(root=tmp_path)
    assert callable(local.run) and callable(podman.run)


def test_a_job_fetches_processes_and_publishes_byte_for_byte_without_leaking_credentials(
    backend: LocalBackend, swift: Connection, credentials: bytes, local_swift: LocalSwift
) -> None:
    key = new_key()
    put_input(swift, key, STUDY)
    # The argv of every process of this job (all steps run in its tmp directory), not the
    # whole machine's: a CI runner's own command lines may contain any word. The publisher
    # starts beside the processor, so look again (for at most 30 s) until it has exec'd.
    argvs = (
        "here=$(pwd -P); snap() { for p in /proc/[0-9]*; do"
        ' [ "$(readlink "$p/cwd" 2>/dev/null)" = "$here" ]'
        ' && tr "\\0" " " < "$p/cmdline" 2>/dev/null && echo; done; };'
        " for i in $(seq 300); do snap > /share/ps.txt;"
        ' grep -q "publish put" /share/ps.txt && break; sleep 0.1; done'
    )
    script = f"{COPY_ALL} && env > /share/outgoing/env.txt; {argvs}; true"
    job = backend.run(spec(key, script, env={"STUDY_KIND": "ct"}), credentials)

    secret = job.directory / "credentials" / "swift-credentials.cfg"
    assert stat.S_IMODE(job.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(secret.stat().st_mode) == 0o400
    result = backend.wait(job, JOB_TIMEOUT)

    assert result.succeeded, explain(backend, job, result)
    assert result.exit_codes == {f"{key}-0": {"get": 0, "processor": 0, "publish": 0}}
    outputs = objects(swift, key, "output/")
    env = outputs.pop("env.txt").decode()
    assert outputs == {**STUDY, "log.txt": b"done\n"}
    assert "STUDY_KIND=ct" in env
    argv_lines = (job.share.root / "ps.txt").read_text()
    assert "publish put" in argv_lines, argv_lines  # the waiting publisher was seen
    for secret_text in (local_swift.key, backend.environ[LEAKY]):
        assert secret_text not in env
        assert secret_text not in argv_lines
        for step in ("get", "processor", "publish"):
            assert secret_text not in backend.logs(job, step)
    assert status(swift, key)["state"] == "succeeded"

    backend.cleanup(job)
    assert not job.directory.exists()


def test_a_failing_processor_is_published_recorded_and_reported(
    backend: LocalBackend, swift: Connection, credentials: bytes
) -> None:
    key = new_key()
    put_input(swift, key, {"a.dcm": b"DICM"})
    job = backend.run(spec(key, "echo partial > /share/outgoing/part.txt; exit 3"), credentials)
    result = backend.wait(job, JOB_TIMEOUT)

    assert not result.succeeded
    codes = result.exit_codes[job.pod]
    assert codes["get"] == 0 and codes["processor"] == 3 and codes["publish"] != 0
    assert f"{job.pod}/processor exited 3" in result.failures()
    assert objects(swift, key, "output/") == {"part.txt": b"partial\n"}
    assert status(swift, key)["state"] == "failed"
    assert status(swift, key)["exit_code"] == 3


def test_a_job_with_the_bundle_output_layout_publishes_one_tar_of_its_outputs(
    backend: LocalBackend, swift: Connection, credentials: bytes
) -> None:
    key = new_key()
    put_input(swift, key, STUDY)
    job = backend.run(spec(key, COPY_ALL, output_layout="bundle"), credentials)
    result = backend.wait(job, JOB_TIMEOUT)

    assert result.succeeded, explain(backend, job, result)
    (bundle,) = objects(swift, key, "output/").items()
    assert bundle[0] == ".radswift-bundle.tar"
    with tarfile.open(fileobj=io.BytesIO(bundle[1]), mode="r:") as tar:
        members = {m.name: tar.extractfile(m) for m in tar.getmembers() if m.isfile()}
        published = {name: f.read() for name, f in members.items() if f is not None}
    assert published == {**STUDY, "log.txt": b"done\n"}
    output = status(swift, key)["output"]
    assert isinstance(output, dict) and output["layout"] == "bundle"


def test_a_processor_command_that_does_not_exist_exits_127_as_in_a_pod(
    backend: LocalBackend, swift: Connection, credentials: bytes
) -> None:
    key = new_key()
    put_input(swift, key, {"a.dcm": b"DICM"})
    job = backend.run(spec(key, "unused", command=["no-such-program-here"]), credentials)
    result = backend.wait(job, JOB_TIMEOUT)

    assert result.exit_codes[job.pod]["processor"] == 127
    assert status(swift, key)["state"] == "failed"


def test_a_failing_get_starts_neither_the_processor_nor_publish(
    backend: LocalBackend, swift: Connection, credentials: bytes
) -> None:
    key = new_key()
    swift.put_container(key)  # no input/
    job = backend.run(spec(key, "touch /share/outgoing/ran"), credentials)
    result = backend.wait(job, JOB_TIMEOUT)

    assert result.exit_codes[job.pod] == {"get": 3, "processor": None, "publish": None}
    assert job.share.get_failed.exists()
    assert backend.logs(job, "processor") == ""
    assert not (job.share.outgoing / "ran").exists()
    assert objects(swift, key, "output/") == {}


def test_two_jobs_at_once_are_kept_apart(
    backend: LocalBackend, swift: Connection, credentials: bytes
) -> None:
    keys = [new_key(), new_key()]
    for key in keys:
        put_input(swift, key, {"who.txt": key.encode(), "data.bin": os.urandom(50_000)})
    jobs = [backend.run(spec(key, COPY_ALL), credentials) for key in keys]
    results = [backend.wait(job, JOB_TIMEOUT) for job in jobs]

    for key, job, result in zip(keys, jobs, results, strict=True):
        assert result.succeeded, explain(backend, job, result)
        outputs = objects(swift, key, "output/")
        assert outputs.pop("log.txt") == b"done\n"
        assert outputs == objects(swift, key, "input/")
        assert outputs["who.txt"] == key.encode()
    assert jobs[0].share.root != jobs[1].share.root


def test_a_job_past_its_timeout_is_stopped_and_its_status_says_interrupted(
    backend: LocalBackend, swift: Connection, credentials: bytes
) -> None:
    key = new_key()
    put_input(swift, key, {"a.dcm": b"DICM"})
    script = "echo $$ > /share/outgoing/pid; exec sleep 60"
    job = backend.run(spec(key, script), credentials)
    pid_file = job.share.outgoing / "pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, backend.logs(job, "get")
        time.sleep(0.1)
    while "waiting for" not in backend.logs(job, "publish"):  # a SIGTERM before its handler
        assert time.monotonic() < deadline, "publish put did not start waiting"  # kills put
        time.sleep(0.1)

    with pytest.raises(JobError, match="did not finish"):
        backend.wait(job, 1.0)

    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert status(swift, key)["state"] == "interrupted"


def test_the_local_backend_refuses_what_it_cannot_run_faithfully(backend: LocalBackend) -> None:
    with pytest.raises(InvalidInput, match="exitfile"):
        backend.run(spec("k", "true", wait="none"))
    with pytest.raises(InvalidInput, match="single-worker"):
        backend.run(spec("k", "true", workers=2))
