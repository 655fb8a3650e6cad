"""The shared volume of a job pod: every file under /share, who writes it, and when.

A job pod has three containers around one volume mounted at `$RADSWIFT_SHARE`
(default `/share`; an emptyDir for one pod, a ReadWriteMany volume or one hostPath
shared by the N pods of a multi-worker job):

    init container   `radswift publish get`   fetch the key's input/, prepare /share
    processor        the user's command       reads incoming/, writes outgoing/
    publish          `radswift publish put`   wait for the processor(s), upload outgoing/

Files, in the order they appear:

    /share/incoming/                 get (worker 0)     the key's `input/` objects, downloaded
                                                        (the `input/` prefix stripped); read
                                                        by every processor
    /share/outgoing/                 get (worker 0)     created mode 0o2777 (see below); written
                                                        by every processor; read by put
    /share/.radswift/                get (worker 0)     the control directory, mode 0o2777
    /share/.radswift/bin/radswift-emissary
                                     get (worker 0)     only when RADSWIFT_WAIT=exitfile: a
                                                        static binary copied from the image
                                                        (RADSWIFT_EMISSARY, default
                                                        /usr/local/libexec/radswift/radswift-emissary)
    /share/.radswift/get.failed      get (worker 0)     JSON {"reason", "message", "at"}, written
                                                        when get fails, so that the other workers'
                                                        init containers fail at once too
    /share/.radswift/get.done        get (worker 0)     JSON {"key", "files", "bytes", "at"},
                                                        written LAST by get; the other workers'
                                                        init containers wait for it
    /share/.radswift/exitcode        the emissary       single worker, no JOB_COMPLETION_INDEX
    /share/.radswift/exitcode.<i>    the emissary       worker i (JOB_COMPLETION_INDEX=i)
                                                        JSON {"exit_code", "reason", "started_at",
                                                        "finished_at"}, written to a temporary
                                                        name and renamed, when the processor ends
    /share/.radswift/exitcode[.<i>].tail
                                     the emissary       the last 8 KiB of the processor's stdout
                                                        and stderr (interleaved as read), written
                                                        atomically just before the exit-code file;
                                                        put records its last 50 lines as the
                                                        status object's `log_tail`
    /share/.radswift/put.done        put (worker 0)     JSON {"state", "at"}, written after the
                                                        status object is in the store; the other
                                                        workers' publish containers wait for it

All markers are written atomically (temporary name in the same directory, rename), so
a reader never sees half a file. They are not fsynced (neither the publisher's nor the
emissary's): their readers are the job's own containers and driver, which a machine
crash ends as well (an fsync apiece was a tenth of a short local job's latency on a
busy disk). What must outlive a crash is in the store (the status object). The volume
must be fresh per job (an emptyDir, or a per-job hostPath): stale markers from an
earlier run would be believed.

Why 0o2777 for outgoing/ and .radswift/: the processor runs as whatever user its
image or the platform chooses (OpenShift: an arbitrary UID with GID 0), usually not
the publisher's. World-writable is safe here because the volume is private to the
job's pods; setgid keeps new files in the directory's group (the pod's fsGroup under
Kubernetes), which keeps them group-readable by the publisher. The publisher must be
able to READ what the processor writes: run the publish container with the
processor's UID or group (the manifests set one pod-level runAsUser/fsGroup), since a
processor that writes mode-0600 files as another UID cannot be published.

The emissary (`emissary.c`, used by the `exitfile` strategy): the processor's command
becomes `["/share/.radswift/bin/radswift-emissary", "--", CMD, ARGS...]`. It forks
and execs CMD, forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to it, reaps
it (and, as PID 1, any orphan), writes the exit-code file and exits with CMD's code
(128+N when CMD was killed by signal N; 127 when CMD does not exist, 126 when it
cannot be executed). Its control directory is the parent of the directory it is
executed from, so it needs no environment; limits: Linux only, built for the
publisher image's architecture (x86_64 or aarch64), and /share must not be mounted
noexec in the processor container.

Multi-worker jobs (RADSWIFT_WORKERS=N > 1; one Indexed Job, JOB_COMPLETION_INDEX
set in every container): worker 0's get downloads, the others' get wait for
get.done (or fail on get.failed). Every processor writes to the one outgoing/
(processors must pick distinct file names). Worker 0's put waits for ALL N processors
(kubernetes: watches the pods labelled job-name=<job>; exitfile: the N exitcode.<i>
files), uploads once, writes the status object, then put.done. Every other worker's
put waits for its own processor, then for put.done, so that no pod of the Job turns
Failed (which with backoffLimit 0 would make Kubernetes kill worker 0 mid-upload)
before the one upload is over.

What the pod spec must provide (the manifests follow this):

    init container     `radswift publish get`; publish container `radswift publish put`;
                       both with /share mounted and the Secret read-only at /etc/swift
    processor          the user's command; with RADSWIFT_WAIT=exitfile it is
                       ["/share/.radswift/bin/radswift-emissary", "--", CMD, ARGS...]
    env (both)         RADSWIFT_KEY, RADSWIFT_WAIT, RADSWIFT_SHARE (if not /share),
                       RADSWIFT_WORKERS and JOB_COMPLETION_INDEX (multi-worker)
    env (kubernetes)   RADSWIFT_POD_NAME and RADSWIFT_NAMESPACE from the downward API
                       (metadata.name, metadata.namespace), RADSWIFT_JOB_NAME; a
                       ServiceAccount whose Role allows get/list/watch on pods, its token
                       mounted (automountServiceAccountToken)
    image              the emissary at /usr/local/libexec/radswift/radswift-emissary, built
                       by `radswift publish build-emissary PATH` (else set RADSWIFT_EMISSARY)
    UIDs               publish and processor containers able to read each other's files
                       (one pod-level runAsUser/fsGroup, or OpenShift's one arbitrary UID)

In the key (the Swift container), besides input/ and output/:

    .radswift/status.json            get writes {"state": "running"} after the download,
                                     put writes {"state": "publishing"} before uploading and
                                     the final status (succeeded | failed | deadline |
                                     interrupted | wait-failed | upload-failed) LAST. It sits
                                     outside output/ so that it is never part of the results,
                                     and a reader that sees anything but "succeeded" knows
                                     output/ may be partial.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from radswift.errors import JobError

DEFAULT_SHARE = Path("/share")
INCOMING = "incoming"
OUTGOING = "outgoing"
CONTROL = ".radswift"
EMISSARY_NAME = "radswift-emissary"
GET_DONE = "get.done"
GET_FAILED = "get.failed"
PUT_DONE = "put.done"
EXITCODE = "exitcode"
SHARED_DIR_MODE = 0o2777
"""outgoing/ and .radswift/: writable by any processor UID (see the module docstring)."""

STATUS_OBJECT = ".radswift/status.json"
"""The status object in the key, outside input/ and output/."""


@dataclass(frozen=True, slots=True)
class ShareLayout:
    """The paths of one /share volume."""

    root: Path

    @property
    def incoming(self) -> Path:
        return self.root / INCOMING

    @property
    def outgoing(self) -> Path:
        return self.root / OUTGOING

    @property
    def control(self) -> Path:
        return self.root / CONTROL

    @property
    def emissary(self) -> Path:
        return self.control / "bin" / EMISSARY_NAME

    @property
    def get_done(self) -> Path:
        return self.control / GET_DONE

    @property
    def get_failed(self) -> Path:
        return self.control / GET_FAILED

    @property
    def put_done(self) -> Path:
        return self.control / PUT_DONE

    def exitcode_files(self, index: int | None) -> tuple[Path, ...]:
        """Where the emissary of worker `index` writes; None means a non-indexed pod.

        Worker 0 also accepts the plain name, so that a single-worker pod works whether
        or not the platform set JOB_COMPLETION_INDEX."""
        if index is None:
            return (self.control / EXITCODE, self.control / f"{EXITCODE}.0")
        if index == 0:
            return (self.control / f"{EXITCODE}.0", self.control / EXITCODE)
        return (self.control / f"{EXITCODE}.{index}",)


def utc_now() -> str:
    """An RFC 3339 UTC timestamp, the form Kubernetes uses."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_shared_dir(path: Path) -> None:
    """Create `path` (and parents) and chmod it SHARED_DIR_MODE, whatever the umask."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(SHARED_DIR_MODE)


def write_marker(path: Path, data: Mapping[str, Any], *, durable: bool = True) -> None:
    """Write JSON to `path` atomically: a temporary file in its directory, fsync, rename.

    Without `durable`, no fsync: still atomic for every reader and after any process is
    killed (the page cache holds it), only a power loss may take it back. For bookkeeping
    that is read again at a restart (the local job driver's step records), where an fsync
    apiece was most of a short job's latency."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(dict(data), fh, sort_keys=True)
            fh.write("\n")
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


MAX_CONTROL_FILE_BYTES = 64 * 1024
"""A marker or exit-code file is a few hundred bytes; more is not one of ours."""


def read_control_file(path: Path) -> Any:
    """The JSON value in a file of the control directory; FileNotFoundError if absent.

    The directory is world-writable (see above), so a processor can plant anything
    there: a symlink, a FIFO, a huge or deeply nested file, bytes that are not UTF-8.
    Opened without following a symlink and without blocking, read only if a regular
    file, at most MAX_CONTROL_FILE_BYTES; anything else is a ValueError saying why."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"cannot open it ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("it is not a regular file")
        data = file.read(MAX_CONTROL_FILE_BYTES + 1)
    if len(data) > MAX_CONTROL_FILE_BYTES:
        raise ValueError(f"it is larger than {MAX_CONTROL_FILE_BYTES} bytes")
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ValueError("its JSON is nested too deeply") from None


def read_marker(path: Path) -> dict[str, Any] | None:
    """The JSON object in `path`, or None if it does not exist (yet); JobError if it is
    not a marker (read_control_file says what is refused)."""
    try:
        data = read_control_file(path)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise JobError(f"the marker {path} is not one radswift wrote: {exc}") from None
    return data if isinstance(data, dict) else {"value": data}
