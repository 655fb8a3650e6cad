"""`radswift publish get` / `put` as a job pod runs them: real processes, real stores.

Each scenario runs against the real local Swift (credentials from a v1 credentials
file, as the pod's Secret provides them) and against the local-directory store
(RADSWIFT_STORE=file://...). The processor is a real process started through the
real emissary that get installed; put waits for it with the exitfile strategy, or
with the kubernetes strategy against FakeKubernetesAPI (a fake API server, not Kubernetes).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fakes.kube_cluster import FakeKubernetesAPI
from radswift.publisher.status import read_status
from radswift.store import ObjectStore, open_store

RADSWIFT = str(Path(sys.executable).with_name("radswift"))

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None, reason="gcc is needed to build the emissary"
)


@dataclass
class Pod:
    """One job pod's worth of environment around a fresh /share and a fresh key."""

    key: str
    share: Path
    env: dict[str, str]
    store: ObjectStore
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return self.run_argv([RADSWIFT, "publish", *args], **extra)

    def run_argv(self, argv: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, env={**self.env, **extra}, capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [RADSWIFT, "publish", *args], env={**self.env, **extra}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def processor(self, script: str) -> int:
        """Run the user's command as the pod does: through the emissary in /share."""
        argv = [str(self.share / ".radswift/bin/radswift-emissary"), "--", "sh", "-c", script]
        return subprocess.run(
            argv, env={"PATH": "/usr/bin:/bin"}, timeout=60, check=False
        ).returncode

    def put_input(self, files: dict[str, bytes]) -> None:
        self.store.ensure_container(self.key)
        for name, data in files.items():
            self.store.put_object(self.key, f"input/{name}", io.BytesIO(data), len(data))

    def outputs(self) -> dict[str, bytes]:
        found = {}
        for info in self.store.list_objects(self.key, "output/"):
            with self.store.open_object(self.key, info.name) as reader:
                found[info.name.removeprefix("output/")] = b"".join(reader.iter_chunks())
        return found


@pytest.fixture(params=["file", pytest.param("swift", marks=pytest.mark.swift)])
def pod(request: pytest.FixtureRequest, tmp_path: Path, emissary_binary: Path) -> Iterator[Pod]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ST_", "OS_", "RADSWIFT_"))}
    env.update(
        RADSWIFT_SHARE=str(tmp_path / "share"), RADSWIFT_WAIT="exitfile",
        RADSWIFT_EMISSARY=str(emissary_binary), RADSWIFT_KEY=f"pub-{uuid.uuid4().hex[:10]}",
    )  # fmt: skip
    if request.param == "swift":
        swift = request.getfixturevalue("local_swift")
        creds = tmp_path / "swift-credentials.cfg"
        creds.write_text(
            f"[AUTHORIZATION]\nosAuthUrl = {swift.auth_url}\n"
            f"username = {swift.user}\npassword = {swift.key}\n"
        )
        env["RADSWIFT_CREDENTIALS_FILE"] = str(creds)
        store = open_store(None, environ=swift.environ())
    else:
        env["RADSWIFT_STORE"] = f"file://{tmp_path / 'store'}"
        store = open_store(env["RADSWIFT_STORE"], environ={})
    p = Pod(key=env["RADSWIFT_KEY"], share=tmp_path / "share", env=env, store=store)
    yield p
    for proc in p.procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    store.close()


@pytest.fixture(scope="session")
def emissary_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built as the image build does it: `radswift publish build-emissary OUT`."""
    out = tmp_path_factory.mktemp("emissary") / "radswift-emissary"
    argv = [RADSWIFT, "publish", "build-emissary", str(out)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return out


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def test_a_job_runs_get_processor_put_and_publishes_its_results(pod: Pod) -> None:
    pod.put_input(
        {"series/IM-0001.dcm": b"D" * 70_000, "series/IM-0002.dcm": b"E" * 10, "notes é.txt": b"hi"}
    )
    got = pod.run("get")
    assert got.returncode == 0, got.stderr
    put = pod.start("put")  # the publish container starts at once and waits
    time.sleep(0.5)
    assert put.poll() is None
    code = pod.processor(
        'cd /work 2>/dev/null; ls -R "$0"/incoming > "$0"/outgoing/listing.txt; '
        'cat "$0"/incoming/series/* | wc -c > "$0"/outgoing/bytes.txt'.replace("$0", str(pod.share))
    )
    assert code == 0
    rc, err = finish(put)
    assert rc == 0, err
    outputs = pod.outputs()
    assert outputs["bytes.txt"].strip() == b"70010"
    assert b"IM-0001.dcm" in outputs["listing.txt"]
    status = read_status(pod.store, pod.key)
    assert (status["state"], status["exit_code"], status["output"]["files"]) == ("succeeded", 0, 2)


def test_a_failing_processor_is_published_recorded_and_put_exits_non_zero(pod: Pod) -> None:
    pod.put_input({"a.dcm": b"A"})
    assert pod.run("get").returncode == 0
    put = pod.start("put")
    out = pod.share / "outgoing"
    assert (
        pod.processor(
            f"echo 'half done' > {out}/partial.txt; echo 'boom' > {out}/stderr.log; exit 3"
        )
        == 3
    )
    rc, err = finish(put)
    assert rc == 1 and "processor failed" in err
    assert set(pod.outputs()) == {"partial.txt", "stderr.log"}
    status = read_status(pod.store, pod.key)
    assert (status["state"], status["exit_code"], status["reason"]) == ("failed", 3, "Error")


def test_the_status_of_a_failed_job_keeps_the_last_lines_the_processor_printed(pod: Pod) -> None:
    pod.put_input({"a.dcm": b"A"})
    assert pod.run("get").returncode == 0
    put = pod.start("put")
    script = "for i in $(seq 1 500); do echo line $i; done; echo 'ERROR: bad slice' >&2; exit 3"
    assert pod.processor(script) == 3
    rc, err = finish(put)
    assert rc == 1 and "ERROR: bad slice" in err  # put's message shows it too
    status = read_status(pod.store, pod.key)
    tail = status["log_tail"]
    assert tail.endswith("line 500\nERROR: bad slice\n") and "line 1\n" not in tail
    assert len(tail.splitlines()) <= 50 and len(tail.encode()) <= 8192  # bounded
    assert status["workers"][0]["log_tail"] == tail


def test_get_of_a_key_without_input_exits_3_and_the_processor_never_starts(pod: Pod) -> None:
    got = pod.run("get")
    assert got.returncode == 3, got.stderr
    assert "no objects under input/" in got.stderr or "does not exist" in got.stderr
    assert not (pod.share / ".radswift/get.done").exists()
    assert not (pod.share / ".radswift/bin/radswift-emissary").exists()
    assert json.loads((pod.share / ".radswift/get.failed").read_text())["reason"] == "NoInput"


def test_sigterm_while_waiting_still_publishes_and_records_interrupted(pod: Pod) -> None:
    pod.put_input({"a.dcm": b"A"})
    assert pod.run("get").returncode == 0
    (pod.share / "outgoing" / "progress.txt").write_text("50%\n")
    put = pod.start("put")
    assert put.stderr is not None
    assert "waiting for the processor" in put.stderr.readline()
    time.sleep(0.3)
    put.send_signal(signal.SIGTERM)
    rc, err = finish(put)
    assert rc == 75, err
    assert pod.outputs() == {"progress.txt": b"50%\n"}
    assert read_status(pod.store, pod.key)["state"] == "interrupted"


def test_the_deadline_publishes_what_is_there_and_exits_124(pod: Pod) -> None:
    pod.put_input({"a.dcm": b"A"})
    assert pod.run("get").returncode == 0
    (pod.share / "outgoing" / "early.txt").write_text("x")
    # `python -m radswift.cli.publish`: the fast-starting form job pods may use
    result = pod.run_argv([sys.executable, "-m", "radswift.cli.publish", "put", "--deadline", "1"])
    assert result.returncode == 124, result.stderr
    assert set(pod.outputs()) == {"early.txt"}
    assert read_status(pod.store, pod.key)["state"] == "deadline"


@pytest.mark.parametrize("exit_code", [0, 1])
def test_put_waits_on_the_kubernetes_api_then_publishes(
    pod: Pod, tmp_path: Path, exit_code: int
) -> None:
    pod.put_input({"a.dcm": b"A"})
    assert pod.run("get").returncode == 0
    token = tmp_path / "token"
    with FakeKubernetesAPI() as api:
        token.write_text(api.token)
        api.add_pod("job-x-0")
        put = pod.start(
            "put", "--wait", "kubernetes", "--kube-host", api.url, "--kube-token-file", str(token),
            RADSWIFT_POD_NAME="job-x-0", RADSWIFT_NAMESPACE=api.namespace,
        )  # fmt: skip
        api.wait_for_watchers(1, timeout=30)
        assert put.poll() is None
        (pod.share / "outgoing" / "result.txt").write_text("done\n")
        api.terminate("job-x-0", exit_code=exit_code)
        rc, err = finish(put)
    assert rc == exit_code, err
    assert pod.outputs() == {"result.txt": b"done\n"}
    status = read_status(pod.store, pod.key)
    assert (status["state"], status["exit_code"], status["wait"]) == (
        "succeeded" if exit_code == 0 else "failed", exit_code, "kubernetes",
    )  # fmt: skip


@pytest.mark.parametrize("pod", [pytest.param("swift", marks=pytest.mark.swift)], indirect=True)
def test_rejected_swift_credentials_exit_77(pod: Pod, tmp_path: Path) -> None:
    bad = tmp_path / "bad.cfg"
    text = Path(pod.env["RADSWIFT_CREDENTIALS_FILE"]).read_text()
    bad.write_text(text.replace("password = ", "password = wrong"))
    got = pod.run("get", RADSWIFT_CREDENTIALS_FILE=str(bad))
    assert got.returncode == 77, got.stderr
    assert "wrong" not in got.stderr
