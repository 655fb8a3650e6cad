"""What the directory-based backends (local, podman) share: a directory per job under
their root, found again by a restarted pman, and read the same way.

<root>/<job>/job.json   {"jid", "submitted", "spec_hash"}: which jid a job directory
                        belongs to, and the submit document it was started from

`DirectoryBackend` is their common half of the ManagedBackend contract (root, close,
submit, observe, adopt), over what each does its own way: `run_job` and `observe_job`.
`publisher_reason` is why get or publish failed, in the publisher's words.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from radswift.errors import Conflict
from radswift.jobs.lifecycle import AdoptedJob, JobState, Listener, Observation
from radswift.jobs.spec import JobSpec, job_name
from radswift.podcontract.share import ShareLayout, read_marker, write_marker

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


def publisher_reason(share: ShareLayout, step: str | None) -> str | None:
    """Why `step` failed as the publisher recorded it (get.failed's reason for get,
    put.done's state for publish); None where it left no word."""
    if step == "get":
        found, key = read_json(share.get_failed), "reason"
    elif step == "publish":
        found, key = read_json(share.put_done), "state"
    else:
        return None
    return str(found[key]) if found and found.get(key) else None


class _Rooted(Protocol):
    @property
    def root(self) -> Path: ...


@dataclass
class DirectoryBackend:
    """The half of a directory-based ManagedBackend that does not depend on how its jobs
    run. Subclasses (dataclasses) narrow `backend` (it has the `root` of the job
    directories), name themselves, and implement `run_job` and `observe_job`."""

    backend: _Rooted
    name: str
    _listener: Listener | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def root(self) -> Path:
        return self.backend.root

    def close(self) -> None:
        self._listener = None

    def submit(
        self,
        spec: JobSpec,
        credentials: bytes | None = None,
        *,
        submitted: Mapping[str, Any] | None = None,
        spec_hash: str | None = None,
    ) -> None:
        """Start the job unless its directory exists: the registry decides about
        duplicates, and a job never runs twice. Under the lock that `remove` takes too.
        Conflict if the directory is another jid's (see `directory_of`)."""
        with self._lock:
            if self.directory_of(spec.jid).exists():
                return
            self.run_job(spec, credentials, {"submitted": submitted, "spec_hash": spec_hash})
        self.started_job(spec)

    def run_job(self, spec: JobSpec, credentials: bytes | None, meta: Mapping[str, Any]) -> None:
        """Start the job; `meta` holds `submitted` and `spec_hash` for write_meta."""
        raise NotImplementedError

    def started_job(self, spec: JobSpec) -> None:
        """Called once a job is started, outside the lock."""

    def directory_of(self, jid: str) -> Path:
        """The job's directory. Conflict if it belongs to another jid: job_name is one to
        one, but a job must never be started, read, cancelled or removed through another
        job's directory, whatever put it there."""
        directory = self.root / job_name(jid)
        meta = read_json(directory / META)
        if meta is not None and meta.get("jid") != jid:
            raise Conflict(
                f"job {jid!r}: its directory {directory.name!r} belongs to another job",
                reason="job-directory-taken",
            )
        return directory

    def observe(self, jid: str) -> Observation:
        try:
            directory = self.directory_of(jid)
        except Conflict as err:
            return Observation(state=JobState.UNDEFINED, reason=err.message)
        if not has_meta(directory):
            return Observation(
                state=JobState.UNDEFINED, reason=f"unknown to the {self.name} backend"
            )
        return self.observe_job(directory)

    def adopt(self) -> Iterable[AdoptedJob]:
        return adopted(self.root, self.observe_job)

    def observe_job(self, directory: Path) -> Observation:
        """The job in `directory` as the backend sees it now."""
        raise NotImplementedError
