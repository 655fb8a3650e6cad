"""FakeKubeApi: a FAKE Kubernetes API server for tests, on 127.0.0.1 in a thread.

Not Kubernetes: it serves just what the publisher's `kubernetes` wait strategy uses,
with the real wire format: `GET /api/v1/namespaces/NS/pods` as a PodList, and with
`watch=true` as a chunked stream of `{"type", "object"}` lines (ADDED, MODIFIED,
DELETED, BOOKMARK, and an ERROR Status with code 410 for a compacted resourceVersion),
bearer-token checks (401 Status), field selector `metadata.name=` and label selectors
`k=v[,k=v]`, and `timeoutSeconds`. Tests drive the pods (`add_pod`, `terminate`,
`delete_pod`) and the failures (`drop_watches` cuts live watch connections mid-stream,
`compact` makes old resourceVersions answer 410 Gone, `stall_watches` makes them go
silent like a half-open connection).
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

INDEX_KEY = "batch.kubernetes.io/job-completion-index"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Request:
    """One request the fake saw (for assertions on how the client behaved)."""

    watch: bool
    params: dict[str, str]
    authorized: bool


@dataclass
class _State:
    rv: int = 100
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    compacted: int = 0
    drops: int = 0
    stalled: bool = False
    requests: list[Request] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)
    """The processor container's log per pod, served at .../pods/NAME/log (not in requests)."""


class FakeKubeApi:
    """A fake API server; use as a context manager. `url` is its base URL."""

    def __init__(self, *, token: str = "fake-sa-token", namespace: str = "jobs") -> None:
        self.token = token
        self.namespace = namespace
        self.gone_as_http = False
        """410 for a compacted version: False as an ERROR event in a 200 stream (what the
        API server does for watches), True as an HTTP 410 response."""
        self._state = _State()
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeKubeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._state.drops += 1
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # --- what tests do to the "cluster" ---------------------------------------------
    def add_pod(self, name: str, *, job: str = "job", index: int | None = None) -> None:
        labels = {"job-name": job}
        annotations: dict[str, str] = {}
        if index is not None:
            labels[INDEX_KEY] = str(index)
            annotations[INDEX_KEY] = str(index)
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "uid": f"uid-{name}",
                "labels": labels,
                "annotations": annotations,
                "creationTimestamp": _now(),
            },
            "spec": {
                "containers": [{"name": n, "image": f"img/{n}"} for n in ("processor", "publish")]
            },
            "status": {
                "phase": "Running",
                "startTime": _now(),
                "containerStatuses": [_running(n) for n in ("processor", "publish")],
            },
        }
        self._change("ADDED", name, pod)

    def terminate(
        self, name: str, *, exit_code: int = 0, reason: str | None = None, log: str = ""
    ) -> None:
        """The pod's processor container terminated with `exit_code`, having printed `log`."""
        with self._cond:
            self._state.logs[name] = log
            pod = copy.deepcopy(self._state.pods[name])
        for cs in pod["status"]["containerStatuses"]:
            if cs["name"] == "processor":
                started = cs["state"]["running"]["startedAt"]
                cs["ready"] = False
                cs["started"] = False
                cs["state"] = {
                    "terminated": {
                        "exitCode": exit_code,
                        "reason": reason or ("Completed" if exit_code == 0 else "Error"),
                        "startedAt": started,
                        "finishedAt": _now(),
                        "containerID": f"containerd://{name}-processor",
                    }
                }
        self._change("MODIFIED", name, pod)

    def touch(self, name: str) -> None:
        """An unrelated change to the pod (a new resourceVersion, nothing terminated)."""
        with self._cond:
            pod = copy.deepcopy(self._state.pods[name])
        pod["metadata"].setdefault("annotations", {})["touched"] = _now()
        self._change("MODIFIED", name, pod)

    def delete_pod(self, name: str) -> None:
        with self._cond:
            pod = copy.deepcopy(self._state.pods[name])
        self._change("DELETED", name, pod)

    def drop_watches(self) -> None:
        """Cut every live watch connection mid-stream (no final chunk)."""
        with self._cond:
            self._state.drops += 1
            self._cond.notify_all()

    def stall_watches(self, stalled: bool = True) -> None:
        """Watches go silent (a half-open connection): no events, no end, whatever the timeout."""
        with self._cond:
            self._state.stalled = stalled
            self._cond.notify_all()

    def compact(self) -> None:
        """Forget history: watches from any earlier resourceVersion get 410 Gone."""
        with self._cond:
            self._state.rv += 1
            self._state.compacted = self._state.rv
            self._cond.notify_all()

    @property
    def requests(self) -> list[Request]:
        with self._cond:
            return list(self._state.requests)

    def wait_for_watchers(self, count: int, timeout: float = 10.0) -> None:
        """Block until `count` authorized watch requests have arrived in total."""
        end = time.monotonic() + timeout
        while sum(r.watch and r.authorized for r in self.requests) < count:
            if time.monotonic() > end:
                raise TimeoutError(f"fewer than {count} watch requests arrived")
            time.sleep(0.02)

    # --- server internals ---------------------------------------------------------
    def _change(self, kind: str, name: str, pod: dict[str, Any]) -> None:
        with self._cond:
            self._state.rv += 1
            pod["metadata"]["resourceVersion"] = str(self._state.rv)
            if kind == "DELETED":
                self._state.pods.pop(name, None)
            else:
                self._state.pods[name] = pod
            self._state.events.append((self._state.rv, kind, copy.deepcopy(pod)))
            self._cond.notify_all()


def _running(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"img/{name}",
        "imageID": f"img/{name}@sha256:0",
        "ready": True,
        "started": True,
        "restartCount": 0,
        "containerID": f"containerd://{name}",
        "state": {"running": {"startedAt": _now()}},
    }


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _matches(pod: dict[str, Any], params: dict[str, str]) -> bool:
    field_sel = params.get("fieldSelector", "")
    if field_sel:
        key, _, value = field_sel.partition("=")
        if key != "metadata.name" or pod["metadata"]["name"] != value:
            return False
    labels = pod["metadata"].get("labels", {})
    for term in filter(None, params.get("labelSelector", "").split(",")):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


def _handler_for(api: FakeKubeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(url.query).items()}
            watch = params.get("watch") in ("true", "1")
            authorized = self.headers.get("Authorization") == f"Bearer {api.token}"
            pods = f"/api/v1/namespaces/{api.namespace}/pods/"
            if authorized and url.path.startswith(pods) and url.path.endswith("/log"):
                self._log(url.path[len(pods) : -len("/log")], params)
                return
            with api._cond:
                api._state.requests.append(Request(watch, params, authorized))
            if not authorized:
                self._json(401, _status(401, "Unauthorized", "Unauthorized"))
                return
            if url.path != f"/api/v1/namespaces/{api.namespace}/pods":
                self._json(404, _status(404, "NotFound", f"{url.path} not found"))
                return
            if watch:
                self._watch(params)
            else:
                self._list(params)

        def _log(self, name: str, params: dict[str, str]) -> None:
            """The container's log as text/plain, its last `tailLines` lines."""
            with api._cond:
                log = api._state.logs.get(name)
            if log is None:
                self._json(404, _status(404, "NotFound", f"pod {name} has no log"))
                return
            lines = log.splitlines(keepends=True)
            data = "".join(lines[-int(params.get("tailLines", len(lines) or 1)) :]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _json(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _list(self, params: dict[str, str]) -> None:
            with api._cond:
                items = [copy.deepcopy(p) for p in api._state.pods.values() if _matches(p, params)]
                rv = api._state.rv
            self._json(
                200,
                {
                    "kind": "PodList",
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": str(rv)},
                    "items": items,
                },
            )

        def _chunk(self, event: dict[str, Any]) -> None:
            line = json.dumps(event).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()

        def _watch(self, params: dict[str, str]) -> None:
            since = int(params.get("resourceVersion") or 0)
            end = time.monotonic() + float(params.get("timeoutSeconds") or 1800)
            with api._cond:
                drops = api._state.drops
                gone = since < api._state.compacted
            if gone and api.gone_as_http:
                self._json(410, _status(410, "Expired", f"too old resource version: {since}"))
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if gone:
                self._chunk(
                    {
                        "type": "ERROR",
                        "object": _status(410, "Expired", f"too old resource version: {since}"),
                    }
                )
                self._finish()
                return
            self._stream(since, end, drops, params)

        def _stream(self, since: int, end: float, drops: int, params: dict[str, str]) -> None:
            with suppress(BrokenPipeError, ConnectionResetError):  # the client gave up on it
                self._send_events(since, end, drops, params)

        def _send_events(self, since: int, end: float, drops: int, params: dict[str, str]) -> None:
            while True:
                with api._cond:
                    while api._state.stalled and api._state.drops == drops:
                        api._cond.wait(timeout=0.5)
                    pending = [(rv, k, p) for rv, k, p in api._state.events if rv > since]
                    if not pending and api._state.drops == drops:
                        api._cond.wait(timeout=max(0.0, min(0.5, end - time.monotonic())))
                        pending = [(rv, k, p) for rv, k, p in api._state.events if rv > since]
                    dropped = api._state.drops != drops
                if dropped:
                    self._abort()
                    return
                for rv, kind, pod in pending:
                    since = rv
                    if _matches(pod, params):
                        self._chunk({"type": kind, "object": pod})
                if time.monotonic() >= end:
                    self._finish()
                    return

        def _finish(self) -> None:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _abort(self) -> None:
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


@contextmanager
def fake_kube_api(**kwargs: Any) -> Iterator[FakeKubeApi]:
    """`with fake_kube_api() as api:` a started FakeKubeApi, stopped afterwards."""
    with FakeKubeApi(**kwargs) as api:
        yield api
