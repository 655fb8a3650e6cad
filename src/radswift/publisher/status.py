"""The status object `KEY/.radswift/status.json`: what happened to a job, written last.

States, in the order a job passes through them:

    running        get downloaded the input (written by get)
    publishing     put is uploading; output/ may be partial
    succeeded      every processor exited 0 and output/ was uploaded completely
    failed         a processor exited non-zero (or was killed); what it wrote is in output/
    deadline       the deadline passed before the processor(s) ended; what was there is in output/
    interrupted    put was told to stop (SIGTERM) while waiting; what was there is in output/
    wait-failed    put could not learn how the processor ended (e.g. the API refused it)
    upload-failed  output/ could not be uploaded completely (`output.failures` says which files)

Anything but `succeeded` means output/ is not a complete result. `log_tail` is the end
of what the processor printed (stdout and stderr interleaved; at most 50 lines and 8 KiB)
of the first failing worker, else worker 0, where the wait strategy could read it (the
emissary's `exitcode.tail`, or the pod's log): None otherwise; `workers[i].log_tail` is
each worker's. `output.layout` says how
output/ is stored (`objects`, or `bundle`: one tar, radswift.bundle); when a bundle was
asked for but the tree could not be one, it is `objects` and `output.requested_layout`
and `output.layout_fallback` (why) say so; `output.removed`
counts the objects of earlier runs deleted from output/ once this run's upload succeeded.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from radswift import __version__
from radswift.podcontract.share import STATUS_OBJECT, utc_now
from radswift.publisher.wait.base import ProcessorOutcome
from radswift.store.base import ObjectStore

SCHEMA = 1
FINAL_STATES = (
    "succeeded", "failed", "deadline", "interrupted", "wait-failed", "upload-failed",
)  # fmt: skip


def status_document(
    key: str,
    state: str,
    *,
    outcomes: Sequence[ProcessorOutcome] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON the status object holds; `exit_code` is the first failing worker's, else 0."""
    failing = [o for o in outcomes if not o.succeeded]
    exit_code: int | None = (failing[0] if failing else outcomes[0]).exit_code if outcomes else None
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "key": key,
        "state": state,
        "exit_code": exit_code,
        "reason": (failing[0] if failing else outcomes[0]).reason if outcomes else None,
        "log_tail": (failing[0] if failing else outcomes[0]).log_tail if outcomes else None,
        "workers": [o.as_json() for o in outcomes],
        "updated_at": utc_now(),
        "publisher": f"radswift {__version__}",
    }
    doc.update(extra or {})
    return doc


def write_status(store: ObjectStore, key: str, document: Mapping[str, Any]) -> None:
    """Put the status object (small: one request, verified by MD5 like any object)."""
    data = json.dumps(document, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    store.put_object(
        key, STATUS_OBJECT, io.BytesIO(data), len(data), content_type="application/json"
    )


def read_status(store: ObjectStore, key: str) -> dict[str, Any]:
    """The status object's JSON (NotFound if there is none)."""
    with store.open_object(key, STATUS_OBJECT) as reader:
        data = b"".join(reader.iter_chunks())
    doc = json.loads(data)
    return doc if isinstance(doc, dict) else {}
