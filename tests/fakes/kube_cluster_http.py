"""The HTTP side of FakeKubernetesAPI (kube_cluster.py): routing, lists, watches, logs,
and the API server's Status objects and selectors."""

from __future__ import annotations

import copy
import json
import re
import socket
import time
from contextlib import suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from fakes import kube_workloads as kw

if TYPE_CHECKING:
    from fakes.kube_cluster import FakeKubernetesAPI

Obj = dict[str, Any]
_ROUTE = re.compile(
    r"^/(?:api/v1|apis/batch/v1)/namespaces/(?P<ns>[^/]+)/"
    r"(?P<resource>jobs|pods|persistentvolumeclaims)(?:/(?P<name>[^/]+)(?:/(?P<sub>log))?)?$"
)
LIST_KINDS = {
    "jobs": "JobList",
    "pods": "PodList",
    "persistentvolumeclaims": "PersistentVolumeClaimList",
}


@dataclass
class Seen:
    """One request the fake answered (for assertions on how the client behaved)."""

    method: str
    path: str
    params: dict[str, str]
    status: int = 0

    @property
    def watch(self) -> bool:
        return self.params.get("watch") in ("true", "1")

    @property
    def authorized(self) -> bool:
        """The bearer token was accepted (False too while the request is being checked)."""
        return self.status not in (0, 401)


def api_status(code: int, reason: str, message: str) -> Obj:
    """A `Status` object, as the API server answers a refused request."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def matches(obj: Obj, params: dict[str, str]) -> bool:
    """The field selector `metadata.name=` and label selectors `k=v[,k=v]` of a list or watch."""
    field_sel = params.get("fieldSelector", "")
    if field_sel:
        key, _, value = field_sel.partition("=")
        if key != "metadata.name" or obj["metadata"]["name"] != value:
            return False
    labels = obj["metadata"].get("labels", {})
    for term in filter(None, params.get("labelSelector", "").split(",")):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


def gone_status(since: int) -> Obj:
    return api_status(410, "Expired", f"too old resource version: {since}")


def handler_for(api: FakeKubernetesAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(url.query).items()}
            body = self._body()
            seen = Seen(method, url.path, params)
            with api.cond:
                api.state.seen.append(seen)
            route = _ROUTE.match(url.path)
            if self.headers.get("Authorization") != f"Bearer {api.token}":
                seen.status = 401
                return self._json(401, api_status(401, "Unauthorized", "Unauthorized"))
            if route is None or route["ns"] != api.namespace:
                seen.status = 404
                return self._json(
                    404, api_status(404, "NotFound", f"the server could not find {url.path}")
                )
            resource = route["resource"] + ("/log" if route["sub"] else "")
            name = route["name"]
            verb = _verb(method, name, params)
            with api.cond:
                refused = api.refusal(
                    verb, resource, name or (body or {}).get("metadata", {}).get("name"), body
                )
            if refused is not None:
                seen.status = refused[0]
                return self._json(*refused)
            seen.status = 200
            self._dispatch(verb, resource, name, params, body)

        def _dispatch(
            self,
            verb: str,
            resource: str,
            name: str | None,
            params: dict[str, str],
            body: Obj | None,
        ) -> None:
            if verb == "watch":
                return self._watch(resource, params)
            if verb == "list":
                return self._list(resource, params)
            if resource == "pods/log":
                return self._log(str(name), params)
            with api.cond:
                if verb == "create" and body is not None:
                    return self._json(201, copy.deepcopy(api.create(resource, body)))
                obj = api.state.objects[resource].get(str(name))
                if obj is None:
                    qualified = "jobs.batch" if resource == "jobs" else resource
                    return self._json(
                        404, api_status(404, "NotFound", f'{qualified} "{name}" not found')
                    )
                if verb == "get":
                    return self._json(200, copy.deepcopy(obj))
                if verb == "patch" and body is not None:
                    return self._json(200, copy.deepcopy(api.patch(str(name), body)))
                propagation = (
                    params.get("propagationPolicy")
                    or (body or {}).get("propagationPolicy")
                    or "Background"
                )
                api.delete(resource, str(name), propagation)
            details = {"name": name, "kind": resource, "uid": obj["metadata"]["uid"]}
            self._json(
                200,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": details,
                },
            )

        def _body(self) -> Obj | None:
            length = int(self.headers.get("Content-Length") or 0)
            if not length:
                return None
            data = json.loads(self.rfile.read(length))
            return data if isinstance(data, dict) else None

        def _json(self, code: int, body: Obj) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _list(self, resource: str, params: dict[str, str]) -> None:
            with api.cond:
                items = [
                    copy.deepcopy(o)
                    for o in api.state.objects[resource].values()
                    if matches(o, params)
                ]
                rv = api.state.rv
            self._json(
                200,
                {
                    "kind": LIST_KINDS[resource],
                    "apiVersion": "batch/v1" if resource == "jobs" else "v1",
                    "metadata": {"resourceVersion": str(rv)},
                    "items": items,
                },
            )

        def _start_chunked(self, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def _finish(self) -> None:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _watch(self, resource: str, params: dict[str, str]) -> None:
            since = int(params.get("resourceVersion") or 0)
            end = time.monotonic() + float(params.get("timeoutSeconds") or 1800)
            with api.cond:
                drops = api.state.drops
                gone = since < api.state.compacted
            if gone and api.gone_as_http:
                return self._json(410, gone_status(since))
            self._start_chunked("application/json")
            if gone:
                self._chunk(
                    json.dumps({"type": "ERROR", "object": gone_status(since)}).encode() + b"\n"
                )
                return self._finish()
            with suppress(BrokenPipeError, ConnectionResetError):
                self._events(resource, since, end, drops, params)

        def _events(
            self, resource: str, since: int, end: float, drops: int, params: dict[str, str]
        ) -> None:
            while True:
                with api.cond:
                    while api.state.stalled and api.state.drops == drops:
                        api.cond.wait(timeout=0.5)  # a half-open connection: silence
                    pending = [e for e in api.state.events if e[0] > since]
                    if not pending and api.state.drops == drops:
                        api.cond.wait(timeout=max(0.0, min(0.5, end - time.monotonic())))
                        pending = [e for e in api.state.events if e[0] > since]
                    if api.state.drops != drops:
                        return self._abort()
                for rv, kind_of, kind, obj in pending:
                    since = rv
                    if kind_of == resource and matches(obj, params):
                        self._chunk(json.dumps({"type": kind, "object": obj}).encode() + b"\n")
                if time.monotonic() >= end:
                    return self._finish()

        def _abort(self) -> None:
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _log(self, pod_name: str, params: dict[str, str]) -> None:
            container = params.get("container", "")
            with api.cond:
                pod = api.state.objects["pods"].get(pod_name)
                state = kw.container_state(pod, container) if pod else None
            if pod is None:
                return self._json(404, api_status(404, "NotFound", f'pods "{pod_name}" not found'))
            if state in (None, "waiting"):
                message = f'container "{container}" in pod "{pod_name}" is waiting to start'
                return self._json(400, api_status(400, "BadRequest", message))
            self._start_chunked("text/plain")
            sent = 0
            with suppress(BrokenPipeError, ConnectionResetError):
                while True:
                    with api.cond:
                        text = api.state.logs.get((pod_name, container), "")
                        pod = api.state.objects["pods"].get(pod_name)
                        ended = pod is None or kw.container_state(pod, container) == "terminated"
                        if len(text) == sent and not ended and params.get("follow") == "true":
                            api.cond.wait(timeout=0.5)
                            continue
                    if sent == 0 and params.get("tailLines"):
                        lines = text.splitlines(keepends=True)
                        skipped = "".join(lines[: max(0, len(lines) - int(params["tailLines"]))])
                        sent = len(skipped)
                    if len(text) > sent:
                        self._chunk(text[sent:].encode())
                        sent = len(text)
                    if ended or params.get("follow") != "true":
                        return self._finish()

    return Handler


def _verb(method: str, name: str | None, params: dict[str, str]) -> str:
    if method == "GET" and name is None:
        return "watch" if params.get("watch") in ("true", "1") else "list"
    return {"GET": "get", "POST": "create", "PATCH": "patch", "DELETE": "delete"}[method]
