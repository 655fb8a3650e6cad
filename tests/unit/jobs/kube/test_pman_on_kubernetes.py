"""pman's `kubernetes` backend wired end to end, against FakeKubernetesAPI.

FakeKubernetesAPI is a FAKE API server on 127.0.0.1 (tests/fakes/kube_cluster.py), not
Kubernetes: it serves the paths and JSON shapes radswift.jobs.kube uses, and its
"kubelet" moves the pods when a test says so. Status objects are written to a LocalStore
(a directory), where the backend and the manager read them as they read them from Swift.

Three ways in, as pman is built: the backend table (open_backend), the REST API of
create_app over a JobManager on that backend, and the `pman` command in a subprocess.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from kube_helpers import publish_status

from fakes import kube_workloads as kw
from fakes.kube_cluster import FakeKubernetesAPI
from radswift.jobmanager import JobManager, ManagerConfig, Registry
from radswift.jobs.kube import KubernetesBackend
from radswift.jobs.managed import BackendConfig, open_backend
from radswift.jobs.spec import job_name
from radswift.services.man import ManSettings, create_app
from radswift.store.local import LocalStore

PMAN = str(Path(sys.executable).parent / "pman")
MANAGED_BY = "app.kubernetes.io/managed-by"
FINISHED = ("finishedSuccessfully", "finishedWithError")
WAIT = 20.0
"""Seconds any wait may take at most (a loaded, shared machine); they poll, never sleep."""


def until(what: Callable[[], Any], timeout: float = WAIT, *, why: str = "") -> Any:
    """Poll `what()` until it is truthy; its value. AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s: {why}")
        time.sleep(0.05)


def options(cluster: FakeKubernetesAPI, tmp_path: Path, store: LocalStore) -> dict[str, Any]:
    """What pman's composition root (radswift.cli.man) gives a cluster backend."""
    return {
        "namespace": "radswift",
        "kubeconfig": cluster.kubeconfig(tmp_path / "kubeconfig"),
        "store": store,
    }


def job_request(jid: str) -> dict[str, Any]:
    return {"jid": jid, "image": "localhost/pl-simpledsapp:1", "entrypoint": ["simpledsapp"]}


# --- 1. the backend table ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["kubernetes", "openshift"])
def test_open_backend_gives_the_cluster_backend_by_its_name(
    name: str, cluster: FakeKubernetesAPI, store: LocalStore, tmp_path: Path
) -> None:
    backend = open_backend(
        name,
        BackendConfig(
            root=tmp_path / "jobs", environ={}, options=options(cluster, tmp_path, store)
        ),
    )
    backend.start(lambda jid, observation: None)
    try:
        assert isinstance(backend, KubernetesBackend)
        assert backend.name == name
        assert backend.namespace == "radswift"
        assert backend.wait_synced()  # it reaches the fake API server through the kubeconfig
    finally:
        backend.close()


# --- 2. pman's REST API over a JobManager on that backend ----------------------------------


@pytest.fixture
def pman_app(
    cluster: FakeKubernetesAPI, store: LocalStore, tmp_path: Path
) -> Iterator[httpx.Client]:
    """pman as radswift.cli.man builds it (open_backend, Registry, JobManager, create_app),
    served by uvicorn in a thread on a free loopback port; the app's lifespan starts the
    manager and, at the end, closes it."""
    backend = open_backend(
        "kubernetes",
        BackendConfig(
            root=tmp_path / "jobs", environ={}, options=options(cluster, tmp_path, store)
        ),
    )
    config = ManagerConfig(store_url=f"file://{store.root}")
    manager = JobManager(Registry(tmp_path / "registry.db"), backend, config=config, store=store)
    app = create_app(manager, ManSettings(backend="kubernetes", storage="local"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        until(lambda: server.started or not thread.is_alive(), why="uvicorn starts")
        assert server.started, "pman's app did not start"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
    assert not thread.is_alive(), "pman's app did not stop"


def submit_and_wait_for_the_job(
    client: httpx.Client, cluster: FakeKubernetesAPI, jid: str
) -> dict[str, Any]:
    reply = client.post("/api/v1/jobs", json=job_request(jid))
    assert reply.status_code == 201, reply.text
    name = job_name(jid)
    return until(lambda: cluster.objects("jobs").get(name), why=f"the Job {name} is created")  # type: ignore[no-any-return]


def job_view(client: httpx.Client, jid: str) -> dict[str, Any]:
    reply = client.get(f"/api/v1/jobs/{jid}")
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def wait_finished(client: httpx.Client, jid: str) -> dict[str, Any]:
    return until(  # type: ignore[no-any-return]
        lambda: (view := job_view(client, jid))["status"] in FINISHED and view,
        why=f"{jid} finishes",
    )


def test_a_job_submitted_through_the_api_runs_in_the_cluster_and_succeeds(
    pman_app: httpx.Client, cluster: FakeKubernetesAPI, store: LocalStore
) -> None:
    assert pman_app.get("/healthz").json()["backend"] == "kubernetes"
    job = submit_and_wait_for_the_job(pman_app, cluster, "study-ok")
    assert job["metadata"]["labels"][MANAGED_BY] == "radswift-pman"
    assert job["metadata"]["namespace"] == "radswift"
    name = job["metadata"]["name"]
    until(lambda: cluster.pods_of(name), why="the Job's pod exists")
    cluster.kubelet(name, kw.init_running)
    cluster.kubelet(name, kw.running)
    until(lambda: job_view(pman_app, "study-ok")["status"] == "started", why="started")
    publish_status(store, "study-ok", "succeeded")
    cluster.containers_exit(name, processor=0, publish=0)
    view = wait_finished(pman_app, "study-ok")
    assert view["status"] == "finishedSuccessfully", view
    assert view["exit_code"] == 0 and view["failed_step"] is None
    assert view["publisher_state"] == "succeeded"


def test_a_processor_exiting_3_finishes_with_error_in_the_processor_step(
    pman_app: httpx.Client, cluster: FakeKubernetesAPI, store: LocalStore
) -> None:
    job = submit_and_wait_for_the_job(pman_app, cluster, "study-exit-3")
    name = job["metadata"]["name"]
    until(lambda: cluster.pods_of(name), why="the Job's pod exists")
    cluster.kubelet(name, kw.running)
    publish_status(store, "study-exit-3", "failed", exit_code=3)
    cluster.containers_exit(name, processor=3, publish=1)
    view = wait_finished(pman_app, "study-exit-3")
    assert view["status"] == "finishedWithError", view
    assert (view["failed_step"], view["exit_code"]) == ("processor", 3), view


# --- 3. the `pman` command -----------------------------------------------------------------


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ST_", "OS_")) and k not in ("KUBECONFIG", "RADSWIFT_STORE")
    }
    return {**env, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}


def pman_argv(kubeconfig: Path, tmp_path: Path) -> list[str]:
    return [PMAN, "--backend", "kubernetes", "--kubeconfig", str(kubeconfig),
            "--namespace", "radswift", "--storeBase", str(tmp_path / "store"),
            "--port", "0", "--db", str(tmp_path / "registry.db")]  # fmt: skip


def stop(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM by its PID, then wait with a timeout (SIGKILL if it hangs: a failure)."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        raise AssertionError("pman did not stop on SIGTERM within 30 s") from None


def test_the_pman_command_serves_the_kubernetes_backend(
    cluster: FakeKubernetesAPI, tmp_path: Path
) -> None:
    kubeconfig = cluster.kubeconfig(tmp_path / "kubeconfig")
    log = tmp_path / "pman.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            pman_argv(kubeconfig, tmp_path), stdout=out, stderr=out, env=clean_env(tmp_path)
        )
    try:

        def listening() -> str | None:
            text = log.read_text(errors="replace")
            if proc.poll() is not None:
                raise AssertionError(f"pman exited {proc.returncode}:\n{text}")
            for line in text.splitlines():
                if "pman: listening on " in line:
                    return line.split("listening on ", 1)[1].split()[0]
            return None

        url: str = until(listening, 60, why="pman prints where it listens")
        with httpx.Client(base_url=url, timeout=10) as client:
            health = until(
                lambda: (r := client.get("/healthz")).status_code == 200 and r.json(),
                why="/healthz answers",
            )
            assert health["backend"] == "kubernetes" and health["storage"] == "local"
            reply = client.post("/api/v1/jobs", json=job_request("cli-job"))
            assert reply.status_code == 201, reply.text
            name = job_name("cli-job")
            job = until(lambda: cluster.objects("jobs").get(name), why="the Job is created")
            assert job["metadata"]["labels"][MANAGED_BY] == "radswift-pman"
            until(lambda: cluster.pods_of(name), why="the Job's pod exists")
            cluster.kubelet(name, kw.running)
            store = LocalStore(tmp_path / "store")  # pman's --storeBase
            try:
                publish_status(store, "cli-job", "succeeded")
            finally:
                store.close()
            cluster.containers_exit(name, processor=0, publish=0)
            done = until(
                lambda: (
                    (r := client.get("/api/v1/jobs/cli-job").json())["status"] in FINISHED and r
                ),
                why="the job finishes",
            )
            assert done["status"] == "finishedSuccessfully", done
    finally:
        code = stop(proc)
    assert code in (0, -signal.SIGTERM), log.read_text(errors="replace")  # uvicorn re-raises it
    assert "Traceback" not in log.read_text(errors="replace")


def test_pman_with_an_unreachable_api_says_so_in_one_line_without_a_traceback(
    dead_port: int, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    server = f"http://127.0.0.1:{dead_port}"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "gone", "cluster": {"server": server}}],
                "users": [{"name": "pman", "user": {"token": "unused"}}],
                "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "pman"}}],
                "current-context": "gone",
            }
        )
    )
    proc = subprocess.Popen(
        pman_argv(kubeconfig, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(tmp_path),
    )
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        stop(proc)
        raise AssertionError("pman neither served nor exited with an unreachable API") from None
    output = err.decode(errors="replace")
    assert "Traceback" not in output, output
    assert proc.returncode == 69, output  # EX_UNAVAILABLE
    errors = [line for line in output.splitlines() if line.startswith("radswift: error: ")]
    assert len(errors) == 1, output
    assert "cannot reach the Kubernetes API" in errors[0], output
    assert "127.0.0.1" in errors[0] and str(dead_port) in errors[0], output
    assert "listening on" not in output, output  # it refused before serving
