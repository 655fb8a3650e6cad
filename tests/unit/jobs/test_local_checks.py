"""What the local backend refuses before pman registers a job: what it cannot give."""

from __future__ import annotations

import pytest

from radswift.errors import Unsupported
from radswift.jobs.local import check_runnable
from radswift.jobs.spec import JobSpec


def test_a_gpu_job_is_a_422_naming_the_local_backend() -> None:
    spec = JobSpec(jid="gpu-job", image="x", command=["run"], wait="exitfile", gpu=1)
    with pytest.raises(Unsupported, match="local backend has no GPUs") as refused:
        check_runnable(spec)
    assert refused.value.http_status == 422
    check_runnable(JobSpec(jid="cpu-job", image="x", command=["run"], wait="exitfile"))
