"""The processor's environment is an allow-list: of everything pman's environment holds
(tokens, credential paths, cloud keys), the processor sees PATH, the locale and TZ, a
HOME, TMPDIR and PWD of its own, and the job's declared env; nothing else. With and without
bubblewrap. Store: a local directory."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from radswift.jobs.lifecycle import JobState, Observation
from radswift.jobs.local import LocalBackend
from radswift.jobs.managed import BackendConfig, open_backend
from radswift.jobs.spec import JobSpec
from radswift.store.local import LocalStore

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc builds the emissary")

PMAN_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/root/pman-home",
    "LANG": "C.UTF-8",
    "LC_TIME": "en_GB.UTF-8",
    "TZ": "Europe/Zurich",
    "GITHUB_TOKEN": "ghp-must-not-leak",
    "AWS_SECRET_ACCESS_KEY": "aws-must-not-leak",
    "GOOGLE_APPLICATION_CREDENTIALS": "/etc/gcp/key.json",
    "KUBECONFIG": "/root/.kube/config",
    "SSH_AUTH_SOCK": "/tmp/ssh-agent.sock",
    "HTTPS_PROXY": "http://user:pass@proxy:3128",
    "PMAN_SETTING": "anything-else",
}
DUMP = "import json, os; json.dump(dict(os.environ), open('/share/outgoing/env.json', 'w'))"


def bubblewrap_runs() -> bool:
    if shutil.which("bwrap") is None:
        return False
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-net", "true"],
                           capture_output=True, check=False)  # fmt: skip
    return probe.returncode == 0


@pytest.mark.parametrize("isolation", ["none", "bubblewrap"])
def test_the_processor_sees_only_allowed_variables_and_its_own(
    tmp_path: Path, isolation: str
) -> None:
    if isolation == "bubblewrap" and not bubblewrap_runs():
        pytest.skip("bubblewrap cannot run here")
    store_dir = tmp_path / "store"
    emissary = LocalBackend(tmp_path / "e", environ={}).ensure_emissary()
    options = {"isolation": isolation, "emissary": str(emissary)}
    backend = open_backend(
        "local", BackendConfig(root=tmp_path / "jobs", environ=PMAN_ENV, options=options)
    )
    ended = threading.Event()

    def listener(jid: str, observation: Observation) -> None:
        if observation.state.finished:
            ended.set()

    backend.start(listener)
    spec = JobSpec(jid="env-job", image="host", command=["python3", "-c", DUMP],
                   wait="exitfile", store=f"file://{store_dir}", allow_empty_input=True,
                   env={"PLUGIN_MODE": "test"})  # fmt: skip
    backend.submit(spec)
    assert ended.wait(120)
    assert backend.observe("env-job").state is JobState.SUCCEEDED

    with LocalStore(store_dir).open_object("env-job", "output/env.json") as reader:
        seen = json.loads(b"".join(reader.iter_chunks()))
    job_tmp = str(tmp_path / "jobs" / "env-job" / "tmp")
    assert seen == {
        "PATH": PMAN_ENV["PATH"],
        "LANG": "C.UTF-8",
        "LC_TIME": "en_GB.UTF-8",
        "TZ": "Europe/Zurich",
        "HOME": job_tmp,
        "TMPDIR": job_tmp,
        "PWD": job_tmp,
        "PLUGIN_MODE": "test",
    }
    backend.remove("env-job")
