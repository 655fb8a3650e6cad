"""A local directory that behaves like Swift: the embedded default store.

Layout under `root`:

    index.sqlite3      one row per container and per object (name, size, etag, metadata, ...)
    blobs/ab/<id>      object bytes, under ids unrelated to names, so any name Swift
                       accepts (1024 bytes, `a` beside `a/b`, trailing `/`) is storable
    tmp/               puts in progress (same filesystem, so the final rename is atomic)

Crash safety (a writer killed with `kill -9` mid-put): a put's temp file is locked
by its writer until renamed, and opening the store removes the temp files of dead
writers (local_blobs.py), so a crash leaves nothing behind past the next start, while
another live process's put is left alone. And a container (a key) is
created in the index only in the transaction that commits its first object:
`ensure_container` alone makes it exist for this store object only (as Swift would
show an empty container), so a push killed before its first object leaves no key.

Why an index instead of files named after objects: a file system cannot hold both `a`
and `a/b`, sorts differently from Swift (UTF-8 byte order) and limits name lengths.
SQLite in WAL mode with a busy timeout makes the index safe for threads and processes
alike; its BINARY collation compares UTF-8 bytes, which is exactly Swift's order.

A put writes a temp file (hashing as it goes), fsyncs it, renames it into `blobs/` and
then switches the index row in one transaction; the replaced blob is unlinked only
afterwards, so a failed put leaves the previous object untouched and a reader that
already opened the old blob keeps reading it whole.

A manifest (Swift SLO) is an index row listing its segments; reading it streams the
segments' blobs in order, and, as Swift does, refuses a segment whose ETag no longer
matches the manifest. Deleting a manifest deletes its segments.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from radswift.errors import Conflict, IntegrityError, InvalidInput, InvalidName, NotFound
from radswift.names import MAX_CONTAINER_NAME_BYTES, validate_object_name
from radswift.store.base import ObjectInfo, SegmentRef
from radswift.store.local_blobs import remove_orphans, write_blob
from radswift.store.local_reader import BlobPart, LocalReader

DEFAULT_PAGE_SIZE = 1000
BUSY_TIMEOUT_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS containers (name TEXT PRIMARY KEY, created TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    blob TEXT,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    content_type TEXT,
    metadata TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    manifest TEXT,
    PRIMARY KEY (container, name)
) WITHOUT ROWID;
"""
_COLUMNS = "name, size, etag, content_type, metadata, last_modified, manifest, blob"


class LocalStore:
    """An ObjectStore in a local directory, with Swift's semantics (see the module doc)."""

    def __init__(self, root: Path, *, page_size: int = DEFAULT_PAGE_SIZE) -> None:
        self.root = root
        self._page_size = page_size
        self._blobs = root / "blobs"
        self._tmp = root / "tmp"
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._pending: set[str] = set()
        """Containers ensured by this store object, created in the index with their
        first object (see the module doc)."""
        opened = time.time()
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
            self._blobs.mkdir(exist_ok=True)
            self._db().executescript(_SCHEMA)
            remove_orphans(self._tmp, older_than=opened)
        except (OSError, sqlite3.Error) as exc:
            raise InvalidInput(f"cannot use {root} as a local store: {exc}") from None

    @property
    def description(self) -> str:
        return f"local store {self.root}"

    # -- containers -----------------------------------------------------------------

    def ensure_container(self, container: str) -> None:
        _check_container(container)
        if not self._stored_container(self._db(), container):
            with self._lock:
                self._pending.add(container)

    def container_exists(self, container: str) -> bool:
        with self._lock:
            if container in self._pending:
                return True
        return self._stored_container(self._db(), container)

    def delete_container(self, container: str) -> None:
        with self._lock:
            if container in self._pending:
                self._pending.discard(container)
                return  # never stored: nothing in it
        with self._write() as db:
            self._require_container(db, container)
            if db.execute(
                "SELECT 1 FROM objects WHERE container = ? LIMIT 1", (container,)
            ).fetchone():
                raise Conflict(f"container {container!r} is not empty", status=409)
            db.execute("DELETE FROM containers WHERE name = ?", (container,))

    # -- reading ---------------------------------------------------------------------

    def list_objects(
        self, container: str, prefix: str = "", *, marker: str = ""
    ) -> Iterator[ObjectInfo]:
        db = self._db()
        self._require_container(db, container)
        after, inclusive = (prefix, True) if prefix > marker else (marker, False)
        while True:
            op = ">=" if inclusive else ">"
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM objects WHERE container = ? AND name {op} ?"  # noqa: S608
                " ORDER BY name LIMIT ?",
                (container, after, self._page_size),
            ).fetchall()
            for row in rows:
                if not row[0].startswith(prefix):
                    return
                yield _info(row, with_metadata=False)
            if len(rows) < self._page_size:
                return
            after, inclusive = rows[-1][0], False

    def head_object(self, container: str, name: str) -> ObjectInfo:
        return _info(self._row(self._db(), container, name), with_metadata=True)

    def open_object(
        self, container: str, name: str, *, offset: int = 0, length: int | None = None
    ) -> LocalReader:
        for _ in range(5):  # a concurrent put may unlink the blob between lookup and open
            row = self._row(self._db(), container, name)
            info = _info(row, with_metadata=True)
            segments = _segments(row[6])
            parts = (
                [BlobPart(path=self._blob_path(row[7]), size=info.size)]
                if segments is None
                else [self._segment_part(ref) for ref in segments]
            )
            try:
                return LocalReader(info, segments, parts, offset=offset, length=length)
            except FileNotFoundError:
                continue
        raise NotFound(f"object {name!r} in {container!r} vanished while opening it")

    # -- writing -----------------------------------------------------------------------

    def put_object(
        self,
        container: str,
        name: str,
        body: BinaryIO,
        size: int,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        validate_object_name(name)
        if not self.container_exists(container):
            raise NotFound(f"container {container!r} does not exist", status=404)
        blob = uuid.uuid4().hex
        tmp = self._tmp / blob
        try:
            etag = write_blob(body, size, tmp, self._blob_path(blob))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        values = (size, etag, content_type, _meta_json(metadata), None)
        return self._commit_row(container, name, blob, values)

    def put_manifest(
        self,
        container: str,
        name: str,
        segments: Sequence[SegmentRef],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        validate_object_name(name)
        if not segments:
            raise InvalidInput("a manifest needs at least one segment")
        db = self._db()
        for ref in segments:
            stored = _info(self._row(db, ref.container, ref.name), with_metadata=False)
            if stored.etag != ref.etag or stored.size != ref.size:
                raise InvalidInput(
                    f"segment {ref.name!r} is {stored.size} bytes with ETag {stored.etag},"
                    f" not {ref.size} bytes with ETag {ref.etag}"
                )
        etag = hashlib.md5("".join(r.etag for r in segments).encode(), usedforsecurity=False)
        manifest = json.dumps(
            [[r.container, r.name, r.etag, r.size] for r in segments], ensure_ascii=False
        )
        total = sum(r.size for r in segments)
        values = (total, etag.hexdigest(), content_type, _meta_json(metadata), manifest)
        return self._commit_row(container, name, None, values)

    def delete_object(self, container: str, name: str) -> None:
        with self._write() as db:
            row = self._row(db, container, name)
            db.execute("DELETE FROM objects WHERE container = ? AND name = ?", (container, name))
            doomed = [row[7]]
            for ref in _segments(row[6]) or ():
                seg = db.execute(
                    "DELETE FROM objects WHERE container = ? AND name = ? RETURNING blob",
                    (ref.container, ref.name),
                ).fetchone()
                if seg:
                    doomed.append(seg[0])
        self._unlink_blobs(doomed)

    def close(self) -> None:
        with self._lock:
            for db in list(self._connections):
                db.close()
            self._connections.clear()
        self._local = threading.local()

    # -- internals ---------------------------------------------------------------------

    def _commit_row(
        self,
        container: str,
        name: str,
        blob: str | None,
        values: tuple[int, str, str | None, str, str | None],
    ) -> ObjectInfo:
        size, etag, content_type, meta, manifest = values
        modified = _now()
        old: list[str | None] = []
        try:
            with self._write() as db:
                with self._lock:
                    pending = container in self._pending
                if pending:  # its first object: the container is created with it
                    db.execute(
                        "INSERT OR IGNORE INTO containers VALUES (?, ?)", (container, modified)
                    )
                self._require_container(db, container)
                prev = db.execute(
                    "SELECT blob FROM objects WHERE container = ? AND name = ?",
                    (container, name),
                ).fetchone()
                old = [prev[0]] if prev else []
                db.execute(
                    "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (container, name, blob, size, etag, content_type, meta, modified, manifest),
                )
        except BaseException:
            self._unlink_blobs([blob])
            raise
        with self._lock:
            self._pending.discard(container)
        self._unlink_blobs(old)
        row = (name, size, etag, content_type, meta, modified, manifest, blob)
        return _info(row, with_metadata=True)

    def _segment_part(self, ref: SegmentRef) -> BlobPart:
        def resolve() -> Path:
            try:
                row = self._row(self._db(), ref.container, ref.name)
            except NotFound:
                raise IntegrityError(f"segment {ref.name!r} of a large object is gone") from None
            if row[2] != ref.etag or row[7] is None:
                raise IntegrityError(f"segment {ref.name!r} changed since the manifest was made")
            return self._blob_path(row[7])

        return BlobPart(path=None, size=ref.size, resolve=resolve)

    def _row(self, db: sqlite3.Connection, container: str, name: str) -> tuple[object, ...]:
        row = db.execute(
            f"SELECT {_COLUMNS} FROM objects WHERE container = ? AND name = ?",  # noqa: S608
            (container, name),
        ).fetchone()
        if row is None:
            self._require_container(db, container)
            raise NotFound(f"object {name!r} not found in {container!r}", status=404)
        return tuple(row)

    def _require_container(self, db: sqlite3.Connection, container: str) -> None:
        # Pending first: a first put stores the container, then leaves _pending; read
        # the other way round, a put between the two reads made it vanish (a 404).
        with self._lock:
            if container in self._pending:
                return
        if self._stored_container(db, container):
            return
        raise NotFound(f"container {container!r} does not exist", status=404)

    @staticmethod
    def _stored_container(db: sqlite3.Connection, container: str) -> bool:
        row = db.execute("SELECT 1 FROM containers WHERE name = ?", (container,)).fetchone()
        return row is not None

    def _blob_path(self, blob: object) -> Path:
        text = str(blob)
        return self._blobs / text[:2] / text

    def _unlink_blobs(self, blobs: Sequence[object]) -> None:
        for blob in blobs:
            if blob is not None:
                self._blob_path(blob).unlink(missing_ok=True)

    def _db(self) -> sqlite3.Connection:
        """One connection per thread (and per process: a forked child opens its own)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():
            db = sqlite3.connect(
                self.root / "index.sqlite3",
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
                factory=_Connection,
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db, self._local.pid = db, os.getpid()
            with self._lock:
                self._connections.add(db)
        return db

    def _write(self) -> _WriteTransaction:
        return _WriteTransaction(self._db())


class _Connection(sqlite3.Connection):
    """A connection that can be weakly referenced: a worker thread's connection closes
    when the thread ends (its threading.local goes), yet close() still reaches all."""


class _WriteTransaction:
    """BEGIN IMMEDIATE ... COMMIT/ROLLBACK: takes the write lock up front, so no deadlock."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _check_container(container: str) -> None:
    if not container or "/" in container:
        raise InvalidName(f"{container!r} cannot name a container (empty or contains '/')")
    if len(container.encode("utf-8", "surrogatepass")) > MAX_CONTAINER_NAME_BYTES:
        raise InvalidName(f"container names are at most {MAX_CONTAINER_NAME_BYTES} bytes")


def _meta_json(metadata: Mapping[str, str] | None) -> str:
    return json.dumps({k.lower(): v for k, v in (metadata or {}).items()}, ensure_ascii=False)


def _segments(manifest: object) -> list[SegmentRef] | None:
    if manifest is None:
        return None
    return [
        SegmentRef(container=c, name=n, etag=e, size=s) for c, n, e, s in json.loads(str(manifest))
    ]


def _info(row: Sequence[object], *, with_metadata: bool) -> ObjectInfo:
    name, size, etag, content_type, meta, modified, manifest, _blob = row
    assert isinstance(size, int)
    return ObjectInfo(
        name=str(name),
        size=size,
        etag=str(etag),
        last_modified=str(modified),
        content_type=None if content_type is None else str(content_type),
        large=manifest is not None,
        metadata=json.loads(str(meta)) if with_metadata else {},
    )


def _now() -> str:
    return datetime.fromtimestamp(time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
