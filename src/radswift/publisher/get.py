"""`radswift publish get`: the init container. Fetch the key's input/ and prepare /share.

Worker 0 (or the only worker): check the key has input, download `input/` into
incoming/ (per-file objects, and the area's bundle unpacked if there is one: job_areas.py),
create outgoing/ and the control directory for any processor UID, install
the emissary (exitfile strategy), record `running` in the status object, and write
`get.done` LAST. On failure it writes `get.failed` instead, so that the other
workers' init containers fail too, and raises: the init container fails and the
processor never starts. Other workers only wait for one of those two markers.

Exit codes (errors.py decides them): 0 ok; 2 bad key or arguments; 3 the key has no
input (NoInput); 69 Swift unreachable; 77 credentials rejected; 78 configuration or
credentials missing (or the emissary binary); 124 a follower's deadline passed; 1 other
(e.g. some files failed to download, listed on stderr).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from radswift.errors import DeadlineExceeded, JobError, NoInput, NotFound, RadswiftError
from radswift.names import INPUT_PREFIX
from radswift.podcontract.emissary import install_emissary
from radswift.podcontract.env import WaitStrategy
from radswift.podcontract.share import make_shared_dir, read_marker, utc_now, write_marker
from radswift.publisher.config import PublisherConfig
from radswift.publisher.job_areas import fetch_input
from radswift.publisher.status import status_document, write_status
from radswift.publisher.wait.base import Deadline
from radswift.publisher.wait.exitfile import DEFAULT_INTERVAL
from radswift.store.base import ObjectStore
from radswift.transfer import TransferOptions


@dataclass(frozen=True, slots=True, kw_only=True)
class GetResult:
    """What get did: `downloaded` (worker 0) or `followed` (another worker)."""

    role: str
    files: int
    bytes: int
    seconds: float


def run_get(
    config: PublisherConfig,
    open_store: Callable[[], ObjectStore],
    *,
    options: TransferOptions | None = None,
    poll_interval: float = DEFAULT_INTERVAL,
) -> GetResult:
    """Do the init container's work for this worker; raise a RadswiftError on failure."""
    if not config.is_uploader:
        return _follow(config, Deadline.after(config.deadline_seconds), poll_interval)
    try:
        store = open_store()
        try:
            return _fetch(config, store, options or TransferOptions())
        finally:
            store.close()
    except RadswiftError as err:
        failed = {"reason": err.reason, "message": err.message, "at": utc_now()}
        write_marker(config.share.get_failed, failed, durable=False)  # see share.py
        raise


def _fetch(config: PublisherConfig, store: ObjectStore, options: TransferOptions) -> GetResult:
    prepare_share(config)
    _require_input(config, store)
    result = fetch_input(store, config.key, config.incoming, options)
    if config.wait == WaitStrategy.EXITFILE:
        install_emissary(config.emissary_source, config.share)
    write_status(store, config.key, status_document(config.key, "running"))
    done = {"key": config.key, "files": result.files, "bytes": result.bytes, "at": utc_now()}
    write_marker(config.share.get_done, done, durable=False)  # see share.py
    return GetResult(
        role="downloaded", files=result.files, bytes=result.bytes, seconds=result.seconds
    )


def prepare_share(config: PublisherConfig) -> None:
    """incoming/ for us; outgoing/ and the control directory writable by any processor UID.

    Runs before any processor starts (they wait for this init container, or for
    get.done), so clearing the markers of an earlier run here cannot race with them."""
    config.incoming.mkdir(parents=True, exist_ok=True)
    make_shared_dir(config.outgoing)
    make_shared_dir(config.share.control)
    control = config.share.control
    for stale in (*control.glob("exitcode*"), control / "get.failed", control / "put.done"):
        stale.unlink(missing_ok=True)  # a reused volume must not report an earlier run


def _require_input(config: PublisherConfig, store: ObjectStore) -> None:
    if config.allow_empty_input:
        store.ensure_container(config.key)
        return
    try:
        first = next(iter(store.list_objects(config.key, INPUT_PREFIX)), None)
    except NotFound:
        raise NoInput(f"the key {config.key!r} does not exist") from None
    if first is None:
        raise NoInput(f"the key {config.key!r} has no objects under {INPUT_PREFIX}")


def _follow(config: PublisherConfig, deadline: Deadline, interval: float) -> GetResult:
    """Another worker: wait until worker 0's get is done (or has failed)."""
    started = time.monotonic()
    while True:
        failed = read_marker(config.share.get_failed)
        if failed is not None:
            message = (
                f"worker 0 could not fetch the input: {failed.get('message', 'unknown error')}"
            )
            raise NoInput(message) if failed.get("reason") == "NoInput" else JobError(message)
        done = read_marker(config.share.get_done)
        if done is not None:
            return GetResult(
                role="followed",
                files=int(done.get("files", 0)),
                bytes=int(done.get("bytes", 0)),
                seconds=time.monotonic() - started,
            )
        if deadline.passed:
            raise DeadlineExceeded("the deadline passed before worker 0 fetched the input")
        remaining = deadline.remaining()
        time.sleep(interval if remaining is None else min(interval, remaining))
