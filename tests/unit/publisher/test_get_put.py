"""`publish get` and `publish put` on the local-directory store (a real ObjectStore backend).

get: input/ lands in incoming/, outgoing/ and the control directory are writable by
any processor UID, `get.done` is written last; a key without input fails with NoInput
(exit 3) and leaves `get.failed` for the other workers. put: outgoing/ is published
even when the processor failed or the deadline passed, the status object is written
LAST and says what happened, and put never exits 0 when anything failed. Multi-worker:
exactly one upload, after every processor ended; the others wait for it.
The same commands against the real local Swift: tests/integration/test_publisher.py.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from radswift.errors import (
    ConfigError,
    DeadlineExceeded,
    JobError,
    NoInput,
    ProcessorFailed,
    RadswiftError,
)
from radswift.publisher.config import PublisherConfig
from radswift.publisher.get import run_get
from radswift.publisher.put import run_put
from radswift.publisher.share import read_marker
from radswift.publisher.status import read_status
from radswift.publisher.wait import NoWait, strategy_for
from radswift.store.base import ObjectInfo
from radswift.store.local import LocalStore

KEY = "job-1"


class RecordingStore(LocalStore):
    """A LocalStore that also records the order of put_object calls (for the 'last' rule)."""

    puts: list[str]

    def put_object(self, container: str, name: str, body: Any, size: int, **kw: Any) -> ObjectInfo:
        info = super().put_object(container, name, body, size, **kw)
        if name.endswith("status.json"):
            body.seek(0)
            name = f"{name}:{read_json_state(body.read())}"
        self.puts.append(name)
        return info


def read_json_state(data: bytes) -> str:
    return str(json.loads(data)["state"])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordingStore]:
    s = RecordingStore(tmp_path / "store")
    s.puts = []
    s.ensure_container(KEY)
    for name, data in (
        ("input/a.dcm", b"A" * 1000),
        ("input/series/b.dcm", b"B" * 10),
        ("input/empty", b""),
    ):
        s.put_object(KEY, name, io.BytesIO(data), len(data))
    s.puts.clear()
    yield s
    s.close()


def config(
    tmp_path: Path, *, kube_host: str | None = None, kube_token_file: Path | None = None, **env: str
) -> PublisherConfig:
    base = {"RADSWIFT_KEY": KEY, "RADSWIFT_SHARE": str(tmp_path / "share"), "RADSWIFT_WAIT": "none"}
    return PublisherConfig.from_env(
        {**base, **env}, kube_host=kube_host, kube_token_file=kube_token_file
    )


def opener(store: LocalStore) -> Callable[[], Any]:
    """What get/put call to open the store: the test's own, whose close() they may call."""
    return lambda: _KeptOpen(store)


class _KeptOpen:
    """Delegates to the test's store but ignores close(), so the test can read it after."""

    def __init__(self, inner: LocalStore) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def close(self) -> None:
        pass


def outputs(store: LocalStore) -> dict[str, bytes]:
    found = {}
    for info in store.list_objects(KEY, "output/"):
        with store.open_object(KEY, info.name) as reader:
            found[info.name] = b"".join(reader.iter_chunks())
    return found


# --- get ------------------------------------------------------------------------------


def test_get_fetches_the_input_and_prepares_the_share(
    store: RecordingStore, tmp_path: Path
) -> None:
    cfg = config(tmp_path)
    result = run_get(cfg, opener(store))
    assert (result.role, result.files, result.bytes) == ("downloaded", 3, 1010)
    assert (cfg.incoming / "series" / "b.dcm").read_bytes() == b"B" * 10
    assert (cfg.incoming / "empty").read_bytes() == b""
    for shared in (cfg.outgoing, cfg.share.control):
        assert shared.stat().st_mode & 0o7777 == 0o2777
    assert read_marker(cfg.share.get_done) == {
        **read_marker(cfg.share.get_done),
        "key": KEY,
        "files": 3,
    }  # type: ignore[dict-item]
    assert read_status(store, KEY)["state"] == "running"
    assert not cfg.share.emissary.exists()  # only for the exitfile strategy


@pytest.mark.parametrize("setup", ["no input objects", "no such key"])
def test_get_without_input_fails_with_exit_3_and_tells_the_other_workers(
    store: RecordingStore, tmp_path: Path, setup: str
) -> None:
    cfg = (
        config(tmp_path) if setup == "no input objects" else config(tmp_path, RADSWIFT_KEY="absent")
    )
    if setup == "no input objects":
        for info in list(store.list_objects(KEY, "input/")):
            store.delete_object(KEY, info.name)
    with pytest.raises(NoInput) as info:
        run_get(cfg, opener(store))
    assert info.value.exit_code == 3
    assert not cfg.share.get_done.exists()
    assert read_marker(cfg.share.get_failed)["reason"] == "NoInput"  # type: ignore[index]


def test_other_workers_get_waits_for_worker_0(store: RecordingStore, tmp_path: Path) -> None:
    env = {"RADSWIFT_WORKERS": "2"}
    follower = config(tmp_path, **env, JOB_COMPLETION_INDEX="1")
    threading.Timer(
        0.3, lambda: run_get(config(tmp_path, **env, JOB_COMPLETION_INDEX="0"), opener(store))
    ).start()
    result = run_get(
        follower, lambda: pytest.fail("a follower must not open the store"), poll_interval=0.05
    )
    assert (result.role, result.files) == ("followed", 3)


def test_other_workers_get_fails_when_worker_0_failed(tmp_path: Path) -> None:
    cfg = config(tmp_path, RADSWIFT_WORKERS="2", JOB_COMPLETION_INDEX="1")
    cfg.share.control.mkdir(parents=True)
    cfg.share.get_failed.write_text('{"reason": "StorageUnavailable", "message": "Swift is down"}')
    with pytest.raises(JobError, match="Swift is down"):
        run_get(cfg, lambda: pytest.fail("no store"), poll_interval=0.05)
    cfg.share.get_failed.unlink()
    late = config(
        tmp_path, RADSWIFT_WORKERS="2", JOB_COMPLETION_INDEX="1", RADSWIFT_DEADLINE_SECONDS="0.3"
    )
    with pytest.raises(DeadlineExceeded):
        run_get(late, lambda: pytest.fail("no store"), poll_interval=0.05)


# --- put ------------------------------------------------------------------------------


def processor_wrote(cfg: PublisherConfig, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (cfg.outgoing / name).parent.mkdir(parents=True, exist_ok=True)
        (cfg.outgoing / name).write_bytes(data)


def test_put_publishes_outgoing_and_writes_the_status_last(
    store: RecordingStore, tmp_path: Path
) -> None:
    cfg = config(tmp_path)
    run_get(cfg, opener(store))
    processor_wrote(cfg, {"result.nii": b"N" * 5000, "logs/run.log": b"ok\n"})
    store.puts.clear()
    result = run_put(cfg, opener(store), NoWait())
    assert (result.state, result.files, result.bytes) == ("succeeded", 2, 5003)
    assert outputs(store) == {"output/result.nii": b"N" * 5000, "output/logs/run.log": b"ok\n"}
    assert store.puts[0] == ".radswift/status.json:publishing"
    assert store.puts[-1] == ".radswift/status.json:succeeded"
    assert sorted(store.puts[1:-1]) == ["output/logs/run.log", "output/result.nii"]
    status = read_status(store, KEY)
    assert (status["state"], status["exit_code"], status["output"]["files"]) == ("succeeded", 0, 2)
    assert read_marker(cfg.share.put_done)["state"] == "succeeded"  # type: ignore[index]


def test_a_failed_processor_is_still_published_recorded_and_not_exit_0(
    store: RecordingStore, tmp_path: Path
) -> None:
    cfg = config(tmp_path, RADSWIFT_WAIT="exitfile")
    cfg.share.control.mkdir(parents=True)
    processor_wrote(cfg, {"partial.txt": b"half", "error.log": b"Traceback..."})
    cfg.share.control.joinpath("exitcode").write_text('{"exit_code": 1, "reason": "Error"}')
    with pytest.raises(ProcessorFailed, match="exit 1") as info:
        run_put(cfg, opener(store), strategy_for(cfg))
    assert info.value.exit_code != 0
    assert set(outputs(store)) == {"output/partial.txt", "output/error.log"}
    status = read_status(store, KEY)
    assert (status["state"], status["exit_code"], status["reason"]) == ("failed", 1, "Error")
    assert store.puts[-1] == ".radswift/status.json:failed"


def test_the_deadline_publishes_what_is_there_and_exits_124(
    store: RecordingStore, tmp_path: Path
) -> None:
    cfg = config(tmp_path, RADSWIFT_WAIT="exitfile", RADSWIFT_DEADLINE_SECONDS="0.4")
    cfg.share.control.mkdir(parents=True)
    processor_wrote(cfg, {"so-far.txt": b"1"})
    with pytest.raises(DeadlineExceeded) as info:
        run_put(cfg, opener(store), strategy_for(cfg))
    assert info.value.exit_code == 124
    assert set(outputs(store)) == {"output/so-far.txt"}
    status = read_status(store, KEY)
    assert (status["state"], status["exit_code"]) == ("deadline", None)
    assert "deadline" in status["message"]


def test_a_failed_upload_is_recorded_and_not_exit_0(store: RecordingStore, tmp_path: Path) -> None:
    cfg = config(tmp_path)  # no get ran: outgoing/ does not exist
    with pytest.raises(RadswiftError, match="not a directory") as info:
        run_put(cfg, opener(store), NoWait())
    assert info.value.exit_code != 0
    assert read_status(store, KEY)["state"] == "upload-failed"
    assert read_marker(cfg.share.put_done)["state"] == "upload-failed"  # type: ignore[index]


def test_multi_worker_uploads_once_after_every_processor(
    store: RecordingStore, tmp_path: Path, emissary_binary: Path
) -> None:
    env = {
        "RADSWIFT_WAIT": "exitfile", "RADSWIFT_WORKERS": "3", "RADSWIFT_DEADLINE_SECONDS": "20",
        "RADSWIFT_EMISSARY": str(emissary_binary),
    }  # fmt: skip
    workers = [config(tmp_path, **env, JOB_COMPLETION_INDEX=str(i)) for i in range(3)]
    run_get(workers[0], opener(store))
    assert workers[0].share.emissary.exists()
    store.puts.clear()
    errors: dict[int, BaseException | None] = {}

    def put(i: int) -> None:
        try:
            run_put(workers[i], opener(store), strategy_for(workers[i]), poll_interval=0.05)
            errors[i] = None
        except BaseException as exc:
            errors[i] = exc

    threads = [threading.Thread(target=put, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    control = workers[0].share.control
    for i, code in ((2, 0), (0, 0)):
        processor_wrote(workers[i], {f"part-{i}.txt": b"x" * (i + 1)})
        control.joinpath(f"exitcode.{i}").write_text(f'{{"exit_code": {code}}}')
    time.sleep(0.5)
    assert all(t.is_alive() for t in threads)  # nobody uploads while worker 1 runs
    assert not any(p.startswith("output/") for p in store.puts)
    processor_wrote(workers[1], {"part-1.txt": b"yy"})
    control.joinpath("exitcode.1").write_text('{"exit_code": 5, "reason": "Error"}')
    for t in threads:
        t.join(20)
    assert sorted(p for p in store.puts if p.startswith("output/")) == [
        "output/part-0.txt",
        "output/part-1.txt",
        "output/part-2.txt",
    ]  # fmt: skip  (each file exactly once)
    assert errors[2] is None
    assert isinstance(errors[0], ProcessorFailed) and isinstance(errors[1], ProcessorFailed)
    status = read_status(store, KEY)
    assert (status["state"], status["exit_code"], len(status["workers"])) == ("failed", 5, 3)


def test_multi_worker_on_kubernetes_uploads_once_after_all_three_pods(
    store: RecordingStore, tmp_path: Path
) -> None:
    from fakes.kube_cluster import FakeKubernetesAPI

    with FakeKubernetesAPI() as api:
        token = tmp_path / "token"
        token.write_text(api.token)
        env = {
            "RADSWIFT_WAIT": "kubernetes", "RADSWIFT_WORKERS": "3", "RADSWIFT_JOB_NAME": "job",
            "RADSWIFT_NAMESPACE": api.namespace, "RADSWIFT_DEADLINE_SECONDS": "20",
        }  # fmt: skip
        workers = []
        for i in range(3):
            api.add_pod(f"job-{i}", index=i)
            env_i = {**env, "JOB_COMPLETION_INDEX": str(i), "RADSWIFT_POD_NAME": f"job-{i}"}
            workers.append(config(tmp_path, kube_host=api.url, kube_token_file=token, **env_i))
        run_get(workers[0], opener(store))
        store.puts.clear()
        results: dict[int, BaseException | str] = {}

        def put(i: int) -> None:
            try:
                results[i] = run_put(
                    workers[i], opener(store), strategy_for(workers[i]), poll_interval=0.05
                ).state
            except BaseException as exc:
                results[i] = exc

        threads = [threading.Thread(target=put, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        api.wait_for_watchers(3)
        for i in (1, 0):
            processor_wrote(workers[i], {f"part-{i}.txt": b"p"})
            api.terminate(f"job-{i}", exit_code=0)
        time.sleep(0.5)
        assert all(
            t.is_alive() for t in threads
        )  # worker 2 still runs: nobody uploads, nobody ends
        assert not any(p.startswith("output/") for p in store.puts)
        processor_wrote(workers[2], {"part-2.txt": b"p"})
        api.terminate("job-2", exit_code=0)
        for t in threads:
            t.join(20)
    assert results == {0: "succeeded", 1: "followed", 2: "followed"}
    assert sorted(p for p in store.puts if p.startswith("output/")) == [
        "output/part-0.txt", "output/part-1.txt", "output/part-2.txt",
    ]  # fmt: skip
    labelled = [r for r in api.requests if "labelSelector" in r.params]
    assert labelled and all(r.params["labelSelector"] == "job-name=job" for r in labelled)


class UnreadableTokenWait:
    """A stand-in strategy that fails as a missing service-account token would."""

    name = "kubernetes"

    def wait(self, workers: Any, deadline: Any, found: dict[int, Any]) -> None:
        raise ConfigError("cannot read the service-account token /var/run/...: No such file")


def test_a_wait_that_cannot_even_start_still_publishes_and_keeps_its_exit_code(
    store: RecordingStore, tmp_path: Path
) -> None:
    cfg = config(tmp_path)
    run_get(cfg, opener(store))
    processor_wrote(cfg, {"early.txt": b"e"})
    with pytest.raises(ConfigError) as info:
        run_put(cfg, opener(store), UnreadableTokenWait())
    assert info.value.exit_code == 78
    assert set(outputs(store)) == {"output/early.txt"}
    status = read_status(store, KEY)
    assert status["state"] == "wait-failed" and "token" in status["message"]
