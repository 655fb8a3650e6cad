"""The job registry: every job's submitted document and last known state, in SQLite (WAL).

The one place where a job's state changes (`apply`): an observation moves a job only
along JobState's allowed edges (radswift.jobs.lifecycle.TRANSITIONS); one that does not
(e.g. `started` after `finishedWithError`) is ignored. Every write is one transaction
(`BEGIN IMMEDIATE`), committed before the method returns, so a pman killed at any
moment restarts from a consistent registry. One connection, one lock: threads (the
HTTP shell's workers, the backends' listeners, the dispatcher) never interleave inside
a read-modify-write, so no update is lost.

Durability, per kind of write. What a client was answered about (insert, i.e. a
submit; request_cancel, delete, clear) is fsynced before the method returns
(synchronous=FULL): it survives even a power loss. The bookkeeping of running jobs
(claim_next, apply, requeue) commits with WAL's normal sync (synchronous=NORMAL, no
fsync of its own; the next FULL commit syncs it along): it survives pman being killed
(the WAL is in the page cache), and what a power loss could take back is what the
backend's own files (not fsynced either) may lose with it: a job reads as queued again
and is dispatched again, or its state is read again from the backend when pman starts
(JobManager reconciles every unfinished job). A job's life costs about eight commits;
fsyncing each cost 5-15 ms apiece of a no-op job's latency on a busy disk.

Queue: jobs wait as `notstarted` with `dispatched = 0`; `claim_next` hands out the
oldest (FIFO by submission order) and marks it dispatched.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from radswift.errors import Conflict, NotFound
from radswift.jobs.lifecycle import JobState, Observation

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    jid TEXT NOT NULL UNIQUE,
    spec_hash TEXT NOT NULL,
    submitted TEXT NOT NULL,
    auid TEXT NOT NULL,
    state TEXT NOT NULL,
    dispatched INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    failed_step TEXT,
    reason TEXT,
    exit_code INTEGER,
    detail TEXT,
    steps TEXT NOT NULL DEFAULT '{}',
    extra TEXT NOT NULL DEFAULT '{}',
    status_object TEXT
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (state, dispatched, seq);
CREATE INDEX IF NOT EXISTS jobs_auid ON jobs (auid, seq);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
"""
CANCELLED = "cancelled"
MAX_PAGE = 1000


@dataclass(frozen=True, kw_only=True)
class JobRecord:
    """One job as the registry knows it."""

    jid: str
    seq: int
    state: JobState
    submitted: Mapping[str, Any]
    spec_hash: str
    auid: str
    dispatched: bool
    cancel_requested: bool
    created_at: float
    updated_at: float
    started_at: float | None = None
    finished_at: float | None = None
    failed_step: str | None = None
    reason: str | None = None
    exit_code: int | None = None
    detail: str | None = None
    steps: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    status_object: Mapping[str, Any] | None = None
    """What the job's status object said when it finished (state, output summary)."""

    @property
    def key(self) -> str:
        return str(self.submitted.get("input_key") or self.jid)


@dataclass(frozen=True, kw_only=True)
class JobQuery:
    """Filters and paging of a listing (newest first)."""

    state: JobState | None = None
    auid: str | None = None
    since: float | None = None
    limit: int = 100
    offset: int = 0


class Registry:
    """The SQLite registry at `path` (":memory:" for pure-logic tests)."""

    def __init__(self, path: Path | str, *, clock: Any = time.time) -> None:
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        self._path = str(path)
        self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._pool_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._clock = clock
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock, self._pool_lock:
            for reader in self._idle:
                reader.close()
            self._idle.clear()
            self._db.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads from a pool (WAL readers never wait for the writer, so a
        status call is not held up by commits); for an in-memory registry, the writer's
        under its lock."""
        if self._path == ":memory:":
            with self._lock:
                yield self._db
            return
        with self._pool_lock:
            reader = self._idle.pop() if self._idle else None
        if reader is None:
            reader = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            reader.row_factory = sqlite3.Row
            reader.execute("PRAGMA busy_timeout=5000")
        try:
            yield reader
        finally:
            with self._pool_lock:
                self._idle.append(reader)

    @contextmanager
    def _transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction; `durable`: fsynced at commit (see the module docs)."""
        with self._lock:
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def insert(
        self,
        jid: str,
        spec_hash: str,
        submitted: Mapping[str, Any],
        auid: str = "",
        *,
        dispatched: bool = False,
    ) -> tuple[JobRecord, bool]:
        """Register a new job (True), or return the same one again (False); Conflict if the
        jid exists with another document. `dispatched`: the backend runs it already."""
        with self._transaction() as db:
            existing = self._row(db, jid)
            if existing is not None:
                if existing.spec_hash != spec_hash:
                    raise Conflict(
                        f"job {jid!r} exists with a different spec; choose another"
                        " jid or delete it first",
                        reason="jid_conflict",
                    )
                return existing, False
            now = self._clock()
            db.execute(
                "INSERT INTO jobs (jid, spec_hash, submitted, auid, state, created_at,"
                " updated_at, dispatched) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    jid,
                    spec_hash,
                    json.dumps(dict(submitted), sort_keys=True),
                    auid,
                    JobState.NOTSTARTED.value,
                    now,
                    now,
                    int(dispatched),
                ),
            )
            record = self._row(db, jid)
        assert record is not None
        return record, True

    def get(self, jid: str) -> JobRecord:
        """The job (NotFound if there is none)."""
        with self._reading() as db:
            record = self._row(db, jid)
        if record is None:
            raise NotFound(f"no job {jid!r}", reason="no_such_job")
        return record

    def find(self, jid: str) -> JobRecord | None:
        with self._reading() as db:
            return self._row(db, jid)

    def page(self, query: JobQuery) -> tuple[list[JobRecord], int]:
        """One page of jobs matching `query`, newest first, and how many match in all."""
        where: list[str] = []
        params: list[Any] = []
        if query.state is not None:
            where.append("state = ?")
            params.append(query.state.value)
        if query.auid is not None:
            where.append("auid = ?")
            params.append(query.auid)
        if query.since is not None:
            where.append("created_at >= ?")
            params.append(query.since)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        limit = max(0, min(query.limit, MAX_PAGE))
        with self._reading() as db:
            total = db.execute(f"SELECT COUNT(*) FROM jobs{clause}", params).fetchone()[0]  # noqa: S608 (fixed clauses)
            rows = db.execute(
                f"SELECT * FROM jobs{clause} ORDER BY seq DESC LIMIT ? OFFSET ?",  # noqa: S608
                [*params, limit, max(0, query.offset)],
            ).fetchall()
        return [_record(row) for row in rows], int(total)

    def apply(
        self,
        jid: str,
        observation: Observation,
        status_object: Mapping[str, Any] | None = None,
        *,
        durable: bool = False,
    ) -> JobRecord | None:
        """Record what a backend observed, if it is an allowed move (or news about the same
        state); the new record, or None when ignored (no such job, or not allowed).
        `durable`: fsynced (a cancel that ends a queued job: nothing else would end it)."""
        with self._transaction(durable=durable) as db:
            record = self._row(db, jid)
            if record is None or record.state.finished:
                return None
            state = observation.state
            if state is not record.state and not record.state.can_become(state):
                return None
            changed = _merge(record, observation, status_object, self._clock())
            db.execute(
                "UPDATE jobs SET state=?, updated_at=?, started_at=?, finished_at=?,"
                " failed_step=?, reason=?, exit_code=?, detail=?, steps=?, extra=?,"
                " status_object=? WHERE jid=?",
                (
                    changed.state.value,
                    changed.updated_at,
                    changed.started_at,
                    changed.finished_at,
                    changed.failed_step,
                    changed.reason,
                    changed.exit_code,
                    changed.detail,
                    json.dumps(dict(changed.steps)),
                    json.dumps(dict(changed.extra)),
                    None
                    if changed.status_object is None
                    else json.dumps(dict(changed.status_object)),
                    jid,
                ),
            )
            return changed

    def claim_next(self, max_running: int | None) -> JobRecord | None:
        """The oldest queued job, now marked dispatched, if fewer than `max_running` run."""
        with self._transaction(durable=False) as db:
            if max_running is not None and self._active(db) >= max_running:
                return None
            row = db.execute(
                "SELECT * FROM jobs WHERE state = ? AND dispatched = 0 AND cancel_requested = 0"
                " ORDER BY seq LIMIT 1",
                (JobState.NOTSTARTED.value,),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE jobs SET dispatched = 1 WHERE seq = ?", (row["seq"],))
            return replace(_record(row), dispatched=True)

    def requeue(self, jid: str) -> None:
        """Put a dispatched job that its backend never saw back in the queue."""
        with self._transaction(durable=False) as db:
            db.execute(
                "UPDATE jobs SET dispatched = 0 WHERE jid = ? AND state = ?",
                (jid, JobState.NOTSTARTED.value),
            )

    def request_cancel(self, jid: str) -> tuple[JobRecord, bool]:
        """Mark the job cancelled; a queued one ends at once. Returns the record and whether
        its backend must be told (it was dispatched and has not finished)."""
        with self._transaction() as db:
            record = self._row(db, jid)
            if record is None:
                raise NotFound(f"no job {jid!r}", reason="no_such_job")
            if record.state.finished:
                return record, False
            db.execute("UPDATE jobs SET cancel_requested = 1 WHERE jid = ?", (jid,))
            record = replace(record, cancel_requested=True)
            if record.dispatched:
                return record, True
        ended = self.apply(
            jid,
            Observation(
                state=JobState.FAILED, reason=CANCELLED, detail="cancelled before it started"
            ),
            durable=True,
        )
        return (ended or self.get(jid)), False

    def delete(self, jid: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM jobs WHERE jid = ?", (jid,))

    def clear(self) -> int:
        """Forget every job (the legacy --clearDB); returns how many there were."""
        with self._transaction() as db:
            return int(db.execute("DELETE FROM jobs").rowcount)

    def unfinished(self) -> list[JobRecord]:
        with self._reading() as db:
            rows = db.execute(
                "SELECT * FROM jobs WHERE state NOT IN (?, ?) ORDER BY seq",
                (JobState.SUCCEEDED.value, JobState.FAILED.value),
            ).fetchall()
        return [_record(row) for row in rows]

    def counts(self) -> dict[JobState, int]:
        """Jobs per state (every state present, zeros included)."""
        with self._reading() as db:
            rows = db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        counts = dict.fromkeys(JobState, 0)
        counts.update({JobState(state): int(n) for state, n in rows})
        return counts

    def queue_length(self) -> int:
        with self._reading() as db:
            return int(
                db.execute(
                    "SELECT COUNT(*) FROM jobs WHERE state = ? AND dispatched = 0",
                    (JobState.NOTSTARTED.value,),
                ).fetchone()[0]
            )

    def active(self) -> int:
        with self._reading() as db:
            return self._active(db)

    @staticmethod
    def _active(db: sqlite3.Connection) -> int:
        return int(
            db.execute(
                "SELECT COUNT(*) FROM jobs WHERE dispatched = 1 AND state NOT IN (?, ?)",
                (JobState.SUCCEEDED.value, JobState.FAILED.value),
            ).fetchone()[0]
        )

    @staticmethod
    def _row(db: sqlite3.Connection, jid: str) -> JobRecord | None:
        row = db.execute("SELECT * FROM jobs WHERE jid = ?", (jid,)).fetchone()
        return None if row is None else _record(row)


def _merge(
    record: JobRecord, obs: Observation, status_object: Mapping[str, Any] | None, now: float
) -> JobRecord:
    """The record after `obs` (an allowed move or news about the same state)."""
    failed = obs.state is JobState.FAILED
    reason = CANCELLED if failed and record.cancel_requested else obs.reason
    finished_at = obs.finished_at or (now if obs.state.finished else None)
    return replace(
        record,
        state=obs.state,
        updated_at=now,
        started_at=obs.started_at or record.started_at,
        finished_at=finished_at,
        failed_step=obs.failed_step.value if obs.failed_step else None,
        reason=reason,
        exit_code=obs.exit_code,
        detail=obs.detail,
        steps=dict(obs.steps) or record.steps,
        extra=dict(obs.extra) or record.extra,
        status_object=status_object if status_object is not None else record.status_object,
    )


def _record(row: sqlite3.Row) -> JobRecord:
    status_object = row["status_object"]
    return JobRecord(
        jid=row["jid"],
        seq=row["seq"],
        state=JobState(row["state"]),
        submitted=json.loads(row["submitted"]),
        spec_hash=row["spec_hash"],
        auid=row["auid"],
        dispatched=bool(row["dispatched"]),
        cancel_requested=bool(row["cancel_requested"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        failed_step=row["failed_step"],
        reason=row["reason"],
        exit_code=row["exit_code"],
        detail=row["detail"],
        steps=json.loads(row["steps"]),
        extra=json.loads(row["extra"]),
        status_object=None if status_object is None else json.loads(status_object),
    )
