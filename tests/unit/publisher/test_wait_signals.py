"""SIGTERM while put waits ends the wait with WaitInterrupted (so put can still publish).

The kubelet sends SIGTERM when a Job's deadline passes or its pod is deleted; the
wait must end promptly even while blocked reading a watch from the API server.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from fakes.kube_cluster import FakeKubernetesAPI
from radswift.publisher.config import KubeConnection
from radswift.publisher.wait.base import Deadline, WaitInterrupted
from radswift.publisher.wait.kubernetes import KubernetesWait
from radswift.publisher.wait.signals import InterruptibleWait


def test_sigterm_ends_a_blocked_watch_and_restores_the_handler(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with FakeKubernetesAPI() as api:
        api.add_pod("job-0")
        token = tmp_path / "token"
        token.write_text(api.token)
        inner = KubernetesWait(
            KubeConnection(host=api.url, token_file=token, ca_file=None),
            namespace=api.namespace, pod_name="job-0", own_worker=0, job_name=None,
            container="processor",
        )  # fmt: skip
        wait = InterruptibleWait(inner, ignore_sigterm_after=False)
        threading.Thread(
            target=lambda: (api.wait_for_watchers(1), os.kill(os.getpid(), signal.SIGTERM)),
            daemon=True,
        ).start()
        started = time.monotonic()
        with pytest.raises(WaitInterrupted, match="SIGTERM") as info:
            wait.wait([0], Deadline.after(30), {})
        assert time.monotonic() - started < 10
        assert info.value.exit_code == 75
    assert signal.getsignal(signal.SIGTERM) == before
