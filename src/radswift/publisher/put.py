"""`radswift publish put`: the publish container. Wait for the processor(s), then upload.

Worker 0 (the uploader) waits for every worker's processor, then ALWAYS uploads
outgoing/ to the key's `output/` (a failed processor's logs and partial results are
worth keeping) in the job's layout (objects or one bundle: job_areas.py), deletes what
output/ still held from earlier runs (only once the upload succeeded), writes the final
status object LAST (`status.py`: anything but
`succeeded` says output/ is not a complete result), then the `put.done` marker.
Other workers wait for their own processor, then for `put.done`, so no pod of the
job ends before the one upload is over (see share.py).

Exit codes (errors.py decides them): 0 the processor(s) succeeded and everything was
published; 1 a processor failed (ProcessorFailed; outputs and status published) or
some files failed to upload; 124 the deadline passed (what was there is published);
75 waiting failed or was interrupted; 69 Swift unreachable; 77 credentials rejected;
78 configuration missing; 2 bad key or arguments. Never 0 when anything failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from radswift.errors import (
    DeadlineExceeded,
    ProcessorFailed,
    RadswiftError,
    TransferError,
)
from radswift.podcontract.share import utc_now, write_marker
from radswift.publisher.config import PublisherConfig
from radswift.publisher.job_areas import publish_output, remove_stale
from radswift.publisher.status import status_document, write_status
from radswift.publisher.wait.base import Deadline, ProcessorOutcome, Waiter, WaitInterrupted
from radswift.publisher.wait.exitfile import DEFAULT_INTERVAL, wait_for_marker
from radswift.store.base import ObjectStore
from radswift.transfer import TransferOptions, TransferResult


@dataclass(frozen=True, slots=True, kw_only=True)
class PutResult:
    """What put saw and did (returned only when everything succeeded)."""

    state: str
    outcomes: list[ProcessorOutcome]
    files: int = 0
    bytes: int = 0
    uploaded: bool = False
    layout: str | None = None
    """The layout output/ was published in (None: this worker did not publish)."""


@dataclass
class _Publication:
    """The uploader's bookkeeping, turned into the status document at the end."""

    started_at: str
    outcomes: list[ProcessorOutcome]
    wait_error: RadswiftError | None
    """Why waiting ended early: a WaitFailed, or e.g. a ConfigError (unreadable token)."""
    result: TransferResult | None = None
    upload_error: RadswiftError | None = None
    removed: int | None = None
    """Stale objects deleted from output/ (None: the upload did not get that far)."""
    layout: str | None = None
    """The layout output/ was published in, once known (None: the job's own)."""
    fallback: str | None = None
    """Why the job's bundle layout was not used (publish_output fell back to objects)."""
    extra: dict[str, Any] = field(default_factory=dict)


def run_put(
    config: PublisherConfig,
    open_store: Callable[[], ObjectStore],
    strategy: Waiter,
    *,
    options: TransferOptions | None = None,
    poll_interval: float = DEFAULT_INTERVAL,
) -> PutResult:
    """Wait, publish (worker 0), and raise the error that says what failed, if anything did."""
    started_at = utc_now()
    deadline = Deadline.after(config.deadline_seconds)
    workers = list(range(config.workers)) if config.is_uploader else [config.worker]
    found: dict[int, ProcessorOutcome] = {}
    wait_error: RadswiftError | None = None
    try:
        strategy.wait(workers, deadline, found)
    except RadswiftError as err:  # publish what is there all the same (uploader)
        wait_error = err
    outcomes = [found[w] for w in sorted(found)]
    if not config.is_uploader:
        return _follow(config, outcomes, wait_error, deadline, poll_interval)
    pub = _Publication(started_at=started_at, outcomes=outcomes, wait_error=wait_error)
    pub.extra = {"wait": strategy.name, "workers_expected": len(workers)}
    state = "upload-failed"
    try:
        state = _publish(config, open_store, pub, options or TransferOptions())
    finally:
        done = {"state": state, "at": utc_now()}
        write_marker(config.share.put_done, done, durable=False)  # see share.py
    _raise_for(state, pub)
    return PutResult(
        state=state,
        outcomes=outcomes,
        files=pub.result.files if pub.result else 0,
        bytes=pub.result.bytes if pub.result else 0,
        uploaded=True,
        layout=pub.layout or config.output_layout,
    )


def _publish(
    config: PublisherConfig,
    open_store: Callable[[], ObjectStore],
    pub: _Publication,
    options: TransferOptions,
) -> str:
    """Upload outgoing/, delete stale outputs, then write the final status; return the state."""
    store = open_store()
    try:
        write_status(store, config.key, _document(config, "publishing", pub))
        try:
            published = publish_output(
                store, config.key, config.outgoing, config.output_layout, options
            )
            pub.result = published.result
            pub.layout, pub.fallback = published.layout, published.fallback
            pub.result.raise_for_failures()  # nothing is deleted unless all was published
            pub.removed = remove_stale(store, config.key, published.written, options.workers)
        except RadswiftError as err:
            pub.upload_error = err
        state = final_state(pub)
        write_status(store, config.key, _document(config, state, pub))
        return state
    finally:
        store.close()


def final_state(pub: _Publication) -> str:
    """The status word for what happened (status.py lists them)."""
    if pub.upload_error is not None:
        return "upload-failed"
    if isinstance(pub.wait_error, DeadlineExceeded):
        return "deadline"
    if isinstance(pub.wait_error, WaitInterrupted):
        return "interrupted"
    if pub.wait_error is not None:
        return "wait-failed"
    if any(not o.succeeded for o in pub.outcomes):
        return "failed"
    return "succeeded"


def _document(config: PublisherConfig, state: str, pub: _Publication) -> dict[str, Any]:
    extra: dict[str, Any] = {**pub.extra, "started_at": pub.started_at}
    if state != "publishing":
        extra["finished_at"] = utc_now()
    if pub.wait_error is not None:
        extra["message"] = pub.wait_error.message
    if pub.upload_error is not None:
        extra["message"] = pub.upload_error.message
    output: dict[str, Any] = {"layout": pub.layout or config.output_layout}
    if pub.fallback is not None:
        output.update(requested_layout=config.output_layout, layout_fallback=pub.fallback)
    if pub.result is not None:
        output.update(
            files=pub.result.files,
            bytes=pub.result.bytes,
            failures=[list(f) for f in pub.result.failures[:100]],
            ignored=[list(f) for f in pub.result.ignored[:100]],
        )
    if pub.upload_error is not None and isinstance(pub.upload_error, TransferError):
        output["failures"] = [list(f) for f in pub.upload_error.failures[:100]]
    if pub.removed is not None:
        output["removed"] = pub.removed
    extra["output"] = output
    return status_document(config.key, state, outcomes=pub.outcomes, extra=extra)


def _raise_for(state: str, pub: _Publication) -> None:
    """The error that makes put exit non-zero: an upload failure first, then the wait's."""
    if pub.upload_error is not None:
        raise pub.upload_error
    if pub.wait_error is not None:
        raise pub.wait_error
    failed = [o for o in pub.outcomes if not o.succeeded]
    if failed:
        raise ProcessorFailed(_failure_message(failed))


def _failure_message(failed: list[ProcessorOutcome]) -> str:
    words = ", ".join(f"worker {o.worker}: exit {o.exit_code} ({o.reason})" for o in failed)
    message = f"the processor failed ({words}); its outputs were published and the failure recorded"
    tail = failed[0].log_tail
    if tail:  # the last lines usually say why
        lines = tail.rstrip("\n").splitlines()[-TAIL_IN_MESSAGE:]
        message += "; it printed last:\n" + "\n".join(f"  | {line}" for line in lines)
    return message


TAIL_IN_MESSAGE = 10
"""Lines of the processor's output tail in put's error message (the status keeps more)."""


def _follow(
    config: PublisherConfig,
    outcomes: list[ProcessorOutcome],
    wait_error: RadswiftError | None,
    deadline: Deadline,
    interval: float,
) -> PutResult:
    """Another worker: after our processor, wait for worker 0's upload, then say how we did."""
    if wait_error is not None:
        raise wait_error
    if not wait_for_marker(config.share.put_done, deadline, interval):
        raise DeadlineExceeded("the deadline passed before worker 0 published the outputs")
    failed = [o for o in outcomes if not o.succeeded]
    if failed:
        raise ProcessorFailed(_failure_message(failed))
    return PutResult(state="followed", outcomes=outcomes)
