"""The `kubernetes` wait strategy, against FakeKubernetesAPI (a fake API server, not Kubernetes).

It must LIST once, then WATCH from the list's resourceVersion; resume a dropped watch
from the last version seen; re-LIST after 410 Gone; report the processor's exit code
and reason; give up at the deadline; and for a multi-worker job return only once every
worker's processor has terminated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from fakes.kube_cluster import FakeKubernetesAPI
from radswift.errors import DeadlineExceeded, WaitFailed
from radswift.publisher.config import KubeConnection
from radswift.publisher.wait.base import Deadline, ProcessorOutcome
from radswift.publisher.wait.kubernetes import KubernetesWait


@pytest.fixture
def api() -> Iterator[FakeKubernetesAPI]:
    with FakeKubernetesAPI() as fake:
        yield fake


def strategy(
    api: FakeKubernetesAPI,
    tmp_path: Path,
    *,
    pod: str = "job-0",
    worker: int = 0,
    token: str | None = None,
    watch_seconds: int = 60,
    read_slack: float = 10.0,
) -> KubernetesWait:
    token_file = tmp_path / "token"
    token_file.write_text((token or api.token) + "\n")
    return KubernetesWait(
        KubeConnection(host=api.url, token_file=token_file, ca_file=None),
        namespace=api.namespace,
        pod_name=pod,
        own_worker=worker,
        job_name="job",
        container="processor",
        max_backoff=0.2,
        watch_seconds=watch_seconds,
        read_slack=read_slack,
    )


class Waiting:
    """Runs `wait` in a thread, so the test can change the fake cluster meanwhile."""

    def __init__(
        self,
        wait: Callable[[Sequence[int], Deadline, dict[int, ProcessorOutcome]], None],
        workers: Sequence[int],
        seconds: float | None = 20.0,
    ) -> None:
        self.found: dict[int, ProcessorOutcome] = {}
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(wait, workers, seconds), daemon=True
        )
        self._thread.start()

    def _run(
        self, wait: Callable[..., None], workers: Sequence[int], seconds: float | None
    ) -> None:
        try:
            wait(workers, Deadline.after(seconds), self.found)
        except BaseException as exc:
            self.error = exc

    def result(self, timeout: float = 15.0) -> dict[int, ProcessorOutcome]:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the wait did not return"
        if self.error is not None:
            raise self.error
        return self.found

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


def watching(api: FakeKubernetesAPI, tmp_path: Path) -> Waiting:
    """Pod job-0 runs, and a wait for its processor watches it (its list done)."""
    api.add_pod("job-0")
    waiting = Waiting(strategy(api, tmp_path).wait, [0])
    api.wait_for_watchers(1)
    return waiting


def test_a_completed_processor_is_seen_through_one_list_and_a_watch(
    api: FakeKubernetesAPI, tmp_path: Path
) -> None:
    waiting = watching(api, tmp_path)
    listed = api.resource_version  # what the list answered: nothing changed since
    assert waiting.running
    api.terminate("job-0", exit_code=0)
    outcome = waiting.result()[0]
    assert (outcome.exit_code, outcome.reason, outcome.succeeded) == (0, "Completed", True)
    assert outcome.started_at and outcome.finished_at
    lists = [r for r in api.requests if not r.watch]
    watches = [r for r in api.requests if r.watch]
    assert len(lists) == 1 and len(watches) == 1  # a watch, not a poll
    assert watches[0].params["fieldSelector"] == "metadata.name=job-0"
    assert watches[0].params["resourceVersion"] == listed


def test_the_end_of_the_processors_log_comes_with_its_outcome(
    api: FakeKubernetesAPI, tmp_path: Path
) -> None:
    api.add_pod("job-0")
    log = "".join(f"line {i}\n" for i in range(1, 201)) + "Traceback: bad slice\n"
    api.terminate("job-0", exit_code=1, log=log)
    outcome = Waiting(strategy(api, tmp_path).wait, [0]).result()[0]
    assert outcome.log_tail is not None and outcome.log_tail.endswith("Traceback: bad slice\n")
    assert len(outcome.log_tail.splitlines()) == 50  # bounded


def test_a_processor_that_already_ended_needs_no_watch(
    api: FakeKubernetesAPI, tmp_path: Path
) -> None:
    api.add_pod("job-0")
    api.terminate("job-0", exit_code=3, reason="Error")
    found: dict[int, ProcessorOutcome] = {}
    strategy(api, tmp_path).wait([0], Deadline.after(5), found)
    assert found[0].exit_code == 3
    assert [r.watch for r in api.requests] == [False]


def test_a_failed_processor_reports_its_exit_code_and_reason(
    api: FakeKubernetesAPI, tmp_path: Path
) -> None:
    waiting = watching(api, tmp_path)
    api.terminate("job-0", exit_code=137, reason="OOMKilled")
    outcome = waiting.result()[0]
    assert (outcome.exit_code, outcome.reason, outcome.succeeded) == (137, "OOMKilled", False)


def test_a_dropped_watch_resumes_from_the_last_resource_version(
    api: FakeKubernetesAPI, tmp_path: Path
) -> None:
    waiting = watching(api, tmp_path)
    listed = api.resource_version  # what the list answered: nothing changed since
    api.touch("job-0")  # a newer resourceVersion reaches the client
    touched = api.resource_version
    time.sleep(0.3)
    api.drop_watches()
    api.wait_for_watchers(2)
    api.terminate("job-0", exit_code=0)
    assert waiting.result()[0].exit_code == 0
    watches = [r for r in api.requests if r.watch]
    assert [w.params["resourceVersion"] for w in watches[:2]] == [listed, touched]
    assert sum(not r.watch for r in api.requests) == 1  # resumed, not re-listed


@pytest.mark.parametrize("as_http", [False, True], ids=["error-event", "http-status"])
def test_410_gone_makes_it_list_again(
    api: FakeKubernetesAPI, tmp_path: Path, as_http: bool
) -> None:
    api.gone_as_http = as_http
    waiting = watching(api, tmp_path)
    api.compact()
    api.drop_watches()  # the resumed watch asks for a compacted version: 410
    api.wait_for_watchers(3)  # dropped one, the 410 one, the one after the re-list
    api.terminate("job-0", exit_code=0)
    assert waiting.result()[0].exit_code == 0
    assert sum(not r.watch for r in api.requests) == 2


def test_a_processor_changed_while_the_watch_was_down_is_not_missed(
    api: FakeKubernetesAPI, tmp_path: Path
) -> None:
    waiting = watching(api, tmp_path)
    api.drop_watches()
    api.terminate("job-0", exit_code=2)  # happens between the drop and the resumed watch
    assert waiting.result()[0].exit_code == 2


def test_the_deadline_gives_up_with_a_clear_error(api: FakeKubernetesAPI, tmp_path: Path) -> None:
    api.add_pod("job-0")
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="deadline passed"):
        strategy(api, tmp_path).wait([0], Deadline.after(1.5), {})
    assert 1.4 < time.monotonic() - started < 5


def test_multi_worker_returns_only_after_every_processor_ended(
    api: FakeKubernetesAPI, tmp_path: Path
) -> None:
    for i in range(3):
        api.add_pod(f"job-{i}", index=i)
    api.add_pod("other-0", job="other", index=0)
    waiting = Waiting(strategy(api, tmp_path).wait, [0, 1, 2])
    api.wait_for_watchers(1)
    api.terminate("other-0", exit_code=0)  # another job's pod: ignored
    api.terminate("job-2", exit_code=0)
    api.terminate("job-0", exit_code=0)
    time.sleep(0.5)
    assert waiting.running and set(waiting.found) == {0, 2}
    api.terminate("job-1", exit_code=1)
    found = waiting.result()
    assert {w: o.exit_code for w, o in found.items()} == {0: 0, 1: 1, 2: 0}
    assert api.requests[0].params["labelSelector"] == "job-name=job"


def test_a_deleted_pod_counts_as_a_failed_processor(api: FakeKubernetesAPI, tmp_path: Path) -> None:
    waiting = watching(api, tmp_path)
    api.delete_pod("job-0")
    outcome = waiting.result()[0]
    assert (outcome.exit_code, outcome.reason) == (-1, "PodDeleted")


def test_a_rejected_token_fails_at_once_without_showing_it(
    api: FakeKubernetesAPI, tmp_path: Path
) -> None:
    api.add_pod("job-0")
    with pytest.raises(WaitFailed) as info:
        strategy(api, tmp_path, token="not-the-token-s3cret").wait([0], Deadline.after(10), {})
    assert "401" in str(info.value) and "Role" in str(info.value)
    assert "s3cret" not in str(info.value)
    assert len(api.requests) == 1


def test_a_rotated_token_is_read_again(api: FakeKubernetesAPI, tmp_path: Path) -> None:
    waiting = watching(api, tmp_path)
    api.token = "rotated-token"
    (tmp_path / "token").write_text("rotated-token")
    api.drop_watches()
    api.wait_for_watchers(2)
    api.terminate("job-0")
    assert waiting.result()[0].exit_code == 0


def test_a_silent_watch_is_abandoned_after_its_read_timeout(
    api: FakeKubernetesAPI, tmp_path: Path
) -> None:
    api.add_pod("job-0")
    api.stall_watches()  # a half-open connection: no events, no end
    wait = strategy(api, tmp_path, watch_seconds=1, read_slack=0.5)
    waiting = Waiting(wait.wait, [0])
    api.wait_for_watchers(2, timeout=10)  # the client gave up on the first and watched again
    api.stall_watches(False)
    api.terminate("job-0", exit_code=0)
    assert waiting.result()[0].exit_code == 0


def test_a_kubeconfig_can_replace_in_cluster_config(api: FakeKubernetesAPI, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
        f"clusters: [{{name: fake, cluster: {{server: '{api.url}'}}}}]\n"
        f"users: [{{name: sa, user: {{token: {api.token}}}}}]\n"
        "contexts: [{name: fake, context: {cluster: fake, user: sa}}]\n"
    )
    api.add_pod("job-0")
    api.terminate("job-0", exit_code=4)
    found: dict[int, ProcessorOutcome] = {}
    KubernetesWait(
        KubeConnection(host="", token_file=None, ca_file=None, kubeconfig=kubeconfig),
        namespace=api.namespace, pod_name="job-0", own_worker=0, job_name=None,
        container="processor",
    ).wait([0], Deadline.after(10), found)  # fmt: skip
    assert found[0].exit_code == 4
