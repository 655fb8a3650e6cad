"""FakeKubernetesAPI: a FAKE Kubernetes API server, on 127.0.0.1, for every test that
needs one: pman's Kubernetes backend and the publisher's `kubernetes` wait strategy.

Not Kubernetes, and never called integration with it. It serves exactly what
radswift.jobs.kube and radswift.publisher.wait.kubernetes use, with the real paths and
JSON shapes (objects built from the official client's models, see kube_workloads.py):

    /apis/batch/v1/namespaces/NS/jobs[/NAME]                 create get list watch patch delete
    /api/v1/namespaces/NS/pods                               list watch
    /api/v1/namespaces/NS/pods/NAME/log                      get (container, tailLines, follow)
    /api/v1/namespaces/NS/persistentvolumeclaims[/NAME]      create delete

with bearer tokens (401), an RBAC rule set (403 naming verb and resource as the real
server words it), `409 AlreadyExists` on a duplicate create, a count/jobs.batch quota
(403 "exceeded quota"), an admission hook for `422 Invalid`, `watch=true` as chunked
event streams with resourceVersions and bookmarks, `410 Gone` after `compact()`, cut
connections (`drop_watches`), and delete propagation (Background/Foreground delete the
Job's pods and the claims it owns; Orphan keeps them). Jobs' pods are moved by the
"kubelet" (`kubelet`, `exceed_deadline`); the publisher's tests add bare pods and end
their processor (`add_pod`, `terminate`, `touch`, `delete_pod`) and make watches go
silent like a half-open connection (`stall_watches`).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from fakes import kube_workloads as kw
from fakes.kube_cluster_http import Seen, api_status, handler_for

Obj = dict[str, Any]
GROUPS = {"jobs": "batch", "pods": "", "pods/log": "", "persistentvolumeclaims": ""}
PMAN_RULES = frozenset(
    {(verb, "jobs") for verb in ("create", "get", "list", "watch", "patch", "delete")}
    | {(verb, "pods") for verb in ("get", "list", "watch")}
    | {
        ("get", "pods/log"),
        ("create", "persistentvolumeclaims"),
        ("delete", "persistentvolumeclaims"),
    }
)
"""What deploy/'s pman Role grants (tests/unit/deploy checks the two agree)."""


@dataclass
class _State:
    rv: int = 1000
    objects: dict[str, dict[str, Obj]] = field(
        default_factory=lambda: {"jobs": {}, "pods": {}, "persistentvolumeclaims": {}}
    )
    events: list[tuple[int, str, str, Obj]] = field(default_factory=list)
    compacted: int = 0
    drops: int = 0
    stalled: bool = False
    logs: dict[tuple[str, str], str] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)


class FakeKubernetesAPI:
    """A fake API server; use as a context manager. `url` is its base URL."""

    def __init__(self, *, namespace: str = "radswift", token: str = "fake-pman-token") -> None:
        self.namespace = namespace
        self.token = token
        self.user = f"system:serviceaccount:{namespace}:radswift-pman"
        self.rules: set[tuple[str, str]] = set(PMAN_RULES)
        self.quota_jobs: int | None = None
        self.admission: Callable[[Obj], str | None] | None = None
        """Returns a message to refuse a created object with 422 Invalid."""
        self.gone_as_http = False
        """410 for a compacted version: False as an ERROR event in a 200 stream (what the
        API server does for watches), True as an HTTP 410 response."""
        self.state = _State()
        self.cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeKubernetesAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.drop_watches()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def kubeconfig(self, path: Path) -> Path:
        """A kubeconfig file for this server (the way pman is pointed at a cluster)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "pman", "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": "fake",
                    "context": {"cluster": "fake", "user": "pman", "namespace": self.namespace},
                }
            ],
            "current-context": "fake",
        }
        path.write_text(yaml.safe_dump(config))
        return path

    # --- assertions ---------------------------------------------------------------------
    @property
    def seen(self) -> list[Seen]:
        with self.cond:
            return list(self.state.seen)

    @property
    def requests(self) -> list[Seen]:
        """The lists and watches of pods (not the log reads), in the order they came."""
        pods = f"/api/v1/namespaces/{self.namespace}/pods"
        return [s for s in self.seen if s.path == pods]

    @property
    def resource_version(self) -> str:
        """The newest resourceVersion (what a list would answer now)."""
        with self.cond:
            return str(self.state.rv)

    def wait_for_watchers(self, count: int, timeout: float = 10.0) -> None:
        """Block until `count` authorized watches of pods have arrived in total."""
        self.wait_for(
            lambda: sum(r.watch and r.authorized for r in self.requests) >= count, timeout
        )

    def objects(self, resource: str) -> dict[str, Obj]:
        with self.cond:
            return copy.deepcopy(self.state.objects[resource])

    def pods_of(self, job: str) -> list[str]:
        """The job's pod names, by completion index."""
        pods = [
            p
            for p in self.objects("pods").values()
            if p["metadata"]["labels"].get("job-name") == job
        ]
        pods.sort(key=lambda p: int(p["metadata"]["labels"].get(kw.INDEX_KEY, 0)))
        return [p["metadata"]["name"] for p in pods]

    def wait_for(self, what: Callable[[], bool], timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while not what():
            if time.monotonic() > end:
                raise TimeoutError("the fake cluster never reached the expected state")
            time.sleep(0.02)

    # --- failures -----------------------------------------------------------------------
    def drop_watches(self) -> None:
        """Cut every live watch connection mid-stream."""
        with self.cond:
            self.state.drops += 1
            self.cond.notify_all()

    def stall_watches(self, stalled: bool = True) -> None:
        """Watches go silent (a half-open connection): no events, no end, whatever the timeout."""
        with self.cond:
            self.state.stalled = stalled
            self.cond.notify_all()

    def compact(self) -> None:
        """Forget history: a watch from any earlier resourceVersion gets 410 Gone."""
        with self.cond:
            self.state.rv += 1
            self.state.compacted = self.state.rv
            self.cond.notify_all()

    # --- the kubelet, driven by tests -----------------------------------------------------
    def kubelet(
        self, job: str, action: Callable[[Obj], None], *, workers: list[int] | None = None
    ) -> None:
        """Apply `action` (a kube_workloads function) to the job's pods, then update the Job."""
        names = self.pods_of(job)
        chosen = names if workers is None else [names[w] for w in workers]
        with self.cond:
            for name in chosen:
                pod = copy.deepcopy(self.state.objects["pods"][name])
                action(pod)
                self.change("pods", "MODIFIED", pod)
            self._update_job(job)

    def containers_exit(
        self,
        job: str,
        *,
        processor: int = 0,
        publish: int = 0,
        reason: str | None = None,
        workers: list[int] | None = None,
    ) -> None:
        """The kubelet: the processor (`reason`, e.g. OOMKilled) and publish containers of
        the job's pods (or of `workers`) exited with these codes."""
        self.kubelet(
            job,
            lambda pod: kw.terminated(
                pod, processor=processor, publish=publish, processor_reason=reason
            ),
            workers=workers,
        )

    def exceed_deadline(self, job: str) -> None:
        """activeDeadlineSeconds passed: the controller fails the Job and deletes its pods."""
        with self.cond:
            self._delete_pods(job)
            self._update_job(job, deadline=True)

    # --- bare pods, without a Job (what the publisher's wait watches) ----------------------
    def add_pod(self, name: str, *, job: str = "job", index: int | None = None) -> None:
        """A running pod of `job`, worker `index` of an Indexed Job if given."""
        with self.cond:
            self.change("pods", "ADDED", kw.bare_pod(name, self.namespace, job=job, index=index))

    def terminate(
        self, name: str, *, exit_code: int = 0, reason: str | None = None, log: str = ""
    ) -> None:
        """The pod's processor container terminated with `exit_code`, having printed `log`."""
        with self.cond:
            self.state.logs[(name, "processor")] = log
            pod = copy.deepcopy(self.state.objects["pods"][name])
            kw.processor_terminated(pod, exit_code, reason)
            self.change("pods", "MODIFIED", pod)

    def touch(self, name: str) -> None:
        """An unrelated change to the pod (a new resourceVersion, nothing terminated)."""
        with self.cond:
            pod = copy.deepcopy(self.state.objects["pods"][name])
            pod["metadata"].setdefault("annotations", {})["touched"] = kw.serialize(kw.now())
            self.change("pods", "MODIFIED", pod)

    def delete_pod(self, name: str) -> None:
        with self.cond:
            self.change("pods", "DELETED", copy.deepcopy(self.state.objects["pods"][name]))

    def write_log(self, pod: str, container: str, text: str) -> None:
        with self.cond:
            self.state.logs[(pod, container)] = self.state.logs.get((pod, container), "") + text
            self.cond.notify_all()

    # --- the server's state changes (callers hold self.cond) -----------------------------
    def change(self, resource: str, kind: str, obj: Obj) -> None:
        self.state.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.state.rv)
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            self.state.objects[resource].pop(name, None)
        else:
            self.state.objects[resource][name] = obj
        self.state.events.append((self.state.rv, resource, kind, copy.deepcopy(obj)))
        self.cond.notify_all()

    def create(self, resource: str, obj: Obj) -> Obj:
        meta = obj["metadata"]
        meta.update(
            uid=f"uid-{meta['name']}-{self.state.rv}",
            namespace=self.namespace,
            creationTimestamp=kw.serialize(kw.now()),
            generation=1,
        )
        if resource == "jobs":
            obj["status"] = {"startTime": kw.serialize(kw.now())}
        self.change(resource, "ADDED", obj)
        if resource == "jobs":
            for pod in kw.job_pods(obj):
                self.change("pods", "ADDED", pod)
            self._update_job(meta["name"])
        return obj

    def delete(self, resource: str, name: str, propagation: str) -> None:
        obj = self.state.objects[resource][name]
        self.change(resource, "DELETED", copy.deepcopy(obj))
        if resource == "jobs" and propagation != "Orphan":
            self._delete_pods(name)
            uid = obj["metadata"]["uid"]
            for claim in list(self.state.objects["persistentvolumeclaims"].values()):
                owners = claim["metadata"].get("ownerReferences") or []
                if any(o.get("uid") == uid for o in owners):
                    self.change("persistentvolumeclaims", "DELETED", copy.deepcopy(claim))

    def patch(self, name: str, body: Obj) -> Obj:
        job = copy.deepcopy(self.state.objects["jobs"][name])
        _merge(job, body)
        self.change("jobs", "MODIFIED", job)
        if job["spec"].get("suspend"):
            self._delete_pods(name)  # suspending a Job terminates its active pods
        self._update_job(name)
        return self.state.objects["jobs"][name]

    def _delete_pods(self, job: str) -> None:
        for pod in list(self.state.objects["pods"].values()):
            if pod["metadata"]["labels"].get("job-name") == job:
                self.change("pods", "DELETED", copy.deepcopy(pod))

    def _update_job(self, name: str, *, deadline: bool = False) -> None:
        job = self.state.objects["jobs"].get(name)
        if job is None:
            return
        pods = [
            p
            for p in self.state.objects["pods"].values()
            if p["metadata"]["labels"].get("job-name") == name
        ]
        status = kw.job_status(job, pods, deadline=deadline)
        if status != job.get("status"):
            job = copy.deepcopy(job)
            job["status"] = status
            self.change("jobs", "MODIFIED", job)

    # --- request checks -------------------------------------------------------------------
    def refusal(
        self, verb: str, resource: str, name: str | None, body: Obj | None
    ) -> tuple[int, Obj] | None:
        """The Status a real API server would answer instead of doing the request, if any."""
        group = GROUPS[resource]
        qualified = f"{resource.split('/')[0]}.{group}" if group else resource.split("/")[0]
        subject = f'{qualified} "{name}"' if name else qualified
        if (verb, resource) not in self.rules:
            message = (
                f'{subject} is forbidden: User "{self.user}" cannot {verb} resource '
                f'"{resource}" in API group "{group}" in the namespace "{self.namespace}"'
            )
            return 403, api_status(403, "Forbidden", message)
        if verb != "create" or body is None:
            return None
        if name in self.state.objects[resource]:
            return 409, api_status(409, "AlreadyExists", f"{subject} already exists")
        if resource == "jobs" and self.quota_jobs is not None:
            used = len(self.state.objects["jobs"])
            if used >= self.quota_jobs:
                message = (
                    f"{subject} is forbidden: exceeded quota: radswift-jobs, requested: "
                    f"count/jobs.batch=1, used: count/jobs.batch={used}, "
                    f"limited: count/jobs.batch={self.quota_jobs}"
                )
                return 403, api_status(403, "Forbidden", message)
        invalid = self.admission(body) if self.admission else None
        if invalid:
            kind = body.get("kind", "Object")
            return 422, api_status(
                422, "Invalid", f'{kind}.{group or "core"} "{name}" is invalid: {invalid}'
            )
        return None


def _merge(target: Obj, patch: Obj) -> None:
    """A JSON merge patch (RFC 7386), as the server applies a merge or strategic patch of maps."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
