"""The example plugin (pl-dicom-summary) as a job: get -> plugin -> publish, real Swift.

The sample study (radswift.dev.samples.build_sample_study) is pushed into the key with
radswift's upload, the job runs on the local backend (host processes, the plugin from
this venv) and on podman (the plugin's image built here, layered on the radswift image),
and what the job published under output/ is pulled with python-swiftclient and checked
against the inputs (tests/plugin_checks.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import job_support
import pytest
from job_support import objects, status
from swiftclient.client import Connection

from plugin_checks import check_plugin_outputs
from radswift.dev.demo.example_plugin import (
    PLUGIN_COMMAND,
    ensure_plugin_image,
    local_plugin_command,
)
from radswift.dev.samples import build_sample_study
from radswift.dev.swift import LocalSwift
from radswift.jobs.backend import JobBackend, JobResult
from radswift.jobs.local import LocalBackend
from radswift.jobs.spec import JobSpec
from radswift.store.swift import SwiftStore
from radswift.swift.credentials import credentials_from_environ
from radswift.transfer import TransferOptions, upload_tree

# The podman fixtures (podman_env, radswift_image) are those of the podman job tests.
from test_podman_jobs import podman_env, radswift_image  # noqa: F401  # isort: skip

pytestmark = [pytest.mark.swift, pytest.mark.slow]

JOB_TIMEOUT = 300.0


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = build_sample_study(tmp_path_factory.mktemp("study"), slices=12, rows=128, columns=128)
    return sample.directory


def _push(local_swift: LocalSwift, study: Path, kind: str) -> str:
    key = job_support.new_key(kind)
    creds = credentials_from_environ(local_swift.environ())
    assert creds is not None
    store = SwiftStore.from_credentials(creds, workers=32)
    try:
        store.ensure_container(key)
        upload_tree(store, study, key, "input/", options=TransferOptions()).raise_for_failures()
    finally:
        store.close()
    return key


def _run_and_check(
    backend: JobBackend[object], spec: JobSpec, credentials: bytes, swift: Connection,
    study: Path, tmp_path: Path,
) -> None:  # fmt: skip
    job = backend.run(spec, credentials)
    try:
        result: JobResult = backend.wait(job, JOB_TIMEOUT)
        logs = {c: backend.logs(job, c) for c in ("get", "processor", "publish")}
        assert result.succeeded, f"{result}\n{logs}"
        assert "7 series summarized, 2 files skipped" in logs["processor"]
    finally:
        backend.cleanup(job)
    results = tmp_path / "results"
    for name, data in objects(swift, spec.jid, "output/").items():
        (results / name).parent.mkdir(parents=True, exist_ok=True)
        (results / name).write_bytes(data)
    index = check_plugin_outputs(study, results)
    assert len(index["series"]) == 7
    assert status(swift, spec.jid)["state"] == "succeeded"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the emissary")
def test_the_plugin_runs_as_a_local_job_from_this_venv(
    local_swift: LocalSwift, swift: Connection, credentials: bytes, study: Path, tmp_path: Path
) -> None:
    key = _push(local_swift, study, "plugin-local")
    backend = LocalBackend(tmp_path / "jobs", environ=dict(os.environ), grace=5.0)
    spec = JobSpec(jid=key, image="host", command=local_plugin_command(), wait="exitfile")  # type: ignore[arg-type]
    _run_and_check(backend, spec, credentials, swift, study, tmp_path)  # type: ignore[arg-type]
    assert not (tmp_path / "jobs" / spec.name).exists()  # cleaned up


@pytest.mark.podman
def test_the_plugin_image_runs_as_a_podman_job_on_the_sample_study(
    local_swift: LocalSwift, swift: Connection, credentials: bytes, study: Path, tmp_path: Path,
    podman_env: dict[str, str], radswift_image: str,  # noqa: F811
) -> None:  # fmt: skip
    from radswift.jobs.podman import PodmanBackend

    image = ensure_plugin_image(podman_env, radswift_image)
    key = _push(local_swift, study, "plugin-podman")
    spec = JobSpec(
        jid=key, image=image, command=list(PLUGIN_COMMAND), wait="exitfile",  # type: ignore[arg-type]
        radswift_image=radswift_image, cpu="1", memory="1Gi", active_deadline_seconds=600,
    )  # fmt: skip
    backend = PodmanBackend(root=tmp_path / "jobs", environ=podman_env)
    _run_and_check(backend, spec, credentials, swift, study, tmp_path)  # type: ignore[arg-type]


def test_the_local_command_is_this_interpreter_running_the_plugin_module() -> None:
    command = local_plugin_command()
    assert command[1:] == ["-m", "pl_dicom_summary", "/share/incoming", "/share/outgoing"]
    assert Path(command[0]).is_file()
