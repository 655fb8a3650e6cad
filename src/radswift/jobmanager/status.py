"""A finished job's status object, summarized for its record: the publisher's verdict.

`KEY/.radswift/status.json` (radswift.publisher.status) says whether output/ is complete
(`state`), the processor's exit code, and what was published (`output`: files, bytes,
layout). pman keeps a bounded summary of it with the job.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from radswift.errors import RadswiftError
from radswift.publisher.status import read_status
from radswift.store.base import ObjectStore

log = logging.getLogger("radswift.jobmanager")
OUTPUT_FIELDS = ("files", "bytes", "layout", "requested_layout", "layout_fallback", "removed")


def read_summary(store: ObjectStore | None, key: str) -> dict[str, Any] | None:
    """The status object's state, exit code, message and output summary; None if absent."""
    if store is None:
        return None
    try:
        doc = read_status(store, key)
    except (RadswiftError, OSError, ValueError) as err:
        log.debug("no status object for %s: %s", key, err)
        return None
    found = doc.get("output")
    output: dict[str, Any] = found if isinstance(found, dict) else {}
    summary: dict[str, Any] = {
        "state": doc.get("state"),
        "exit_code": doc.get("exit_code"),
        "reason": doc.get("reason"),
        "output": {k: output[k] for k in OUTPUT_FIELDS if k in output},
    }
    failures = output.get("failures")
    if failures:
        summary["output"]["failures"] = failures[:10]
    if doc.get("message"):
        summary["message"] = str(doc["message"])[:1000]
    json.dumps(summary)  # only JSON goes to the registry
    return summary
