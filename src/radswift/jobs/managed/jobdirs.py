"""What the directory-based backends (local, podman) keep per job for a restarted pman.

<root>/<job>/job.json   {"jid", "submitted", "spec_hash"}: which jid a job directory
                        belongs to, and the submit document it was started from
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from radswift.jobs.lifecycle import AdoptedJob, Observation
from radswift.podcontract.share import read_marker, write_marker

META = "job.json"


def write_meta(
    directory: Path, jid: str, submitted: Mapping[str, Any] | None, spec_hash: str | None
) -> None:
    meta = {"jid": jid, "submitted": dict(submitted or {}), "spec_hash": spec_hash}
    write_marker(directory / META, meta, durable=False)  # as local_run's records


def has_meta(directory: Path) -> bool:
    return (directory / META).exists()


def owned(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every job directory under `root` with its metadata, in name order."""
    if not root.is_dir():
        return
    for path in sorted(root.glob(f"*/{META}")):
        meta = read_json(path)
        if meta and "jid" in meta:
            yield path.parent, meta


def adopted(root: Path, observe: Callable[[Path], Observation]) -> Iterator[AdoptedJob]:
    """AdoptedJob for every job directory under `root` (`observe` reads its state)."""
    for directory, meta in owned(root):
        submitted = meta.get("submitted")
        yield AdoptedJob(
            jid=str(meta["jid"]),
            observation=observe(directory),
            submitted=submitted if isinstance(submitted, dict) else None,
            spec_hash=meta.get("spec_hash"),
        )


def read_json(path: Path) -> dict[str, Any] | None:
    """A marker's JSON, None if missing or unreadable."""
    try:
        return read_marker(path)
    except (OSError, ValueError):
        return None
