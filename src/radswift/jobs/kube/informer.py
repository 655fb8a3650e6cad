"""One LIST then WATCH loop per resource, in its own thread: the cluster's state, pushed.

The informer keeps nothing itself; it tells its owner what changed:
`on_sync(objects)` after every LIST (the complete current set: whatever the owner
knew that is not in it was deleted while nobody watched), and `on_event(type, object)`
for each ADDED / MODIFIED / DELETED of the WATCH that follows. A watch that ends (the
server's timeout) or breaks (connection cut, a silent socket past its read timeout) is
resumed at once from the last resourceVersion seen. `410 Gone` (that version was
compacted away) means LIST again. Any other failure (API down, a 403 while an operator
fixes a Role, the same break twice in a row) means LIST again too, after a capped
exponential backoff, forever: it is logged and reported through `on_error` once per
distinct message (as radswift.jobs.kube.api words it: which verb on which resource) and
kept in `last_error` until a LIST succeeds. The informer never gives up while its
service runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

import urllib3
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

from radswift.errors import RadswiftError
from radswift.jobs.kube.api import CONNECT_TIMEOUT, REQUEST_TIMEOUT, api_error

log = logging.getLogger(__name__)

WATCH_SECONDS = 300
READ_SLACK = 15.0
MAX_BACKOFF = 30.0


class Informer:
    """LIST + WATCH of one resource kind, with resume, re-list on 410 and backoff."""

    def __init__(
        self,
        list_call: Callable[..., Any],
        namespace: str,
        label_selector: str,
        *,
        on_sync: Callable[[list[Any]], None],
        on_event: Callable[[str, Any], None],
        resource: str = "objects",
        on_error: Callable[[RadswiftError], None] = lambda err: None,
        watch_seconds: int = WATCH_SECONDS,
        read_slack: float = READ_SLACK,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self._list_call = list_call
        self._namespace = namespace
        self._selector = label_selector
        self._resource = resource
        self.last_error: RadswiftError | None = None
        """Why the last LIST or WATCH failed (None once one succeeds): for health reports."""
        self._on_sync, self._on_event, self._on_error = on_sync, on_event, on_error
        self._watch_seconds, self._read_slack = watch_seconds, read_slack
        self._max_backoff = max_backoff
        self._version: str | None = None
        self._stop = threading.Event()
        self.synced = threading.Event()
        self.lists = 0
        self.watches = 0
        self._thread = threading.Thread(
            target=self._run, name=f"informer-{label_selector}", daemon=True
        )
        self._watch: Any = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread, cutting a watch that waits for its next event."""
        self._stop.set()
        end = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < end:
            watch = self._watch
            if watch is not None:
                watch.stop()
                response = getattr(watch, "_resp", None)  # the client's open watch response
                if response is not None:
                    with suppress(Exception):
                        response.shutdown()
            self._thread.join(0.05)

    def _run(self) -> None:
        failures = 0
        last_error = ""
        while not self._stop.is_set():
            try:
                if self._version is None:
                    self._list()
                else:
                    self._stream()
                failures = 0
                last_error = ""
                self.last_error = None
            except ApiException as exc:
                if exc.status == 410:
                    self._version = None  # compacted: start over from a fresh LIST
                    continue
                failures, last_error = self._failed(exc, failures, last_error)
            except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError) as exc:
                if failures == 0 and self._version is not None:
                    failures = 1  # a watch cut mid-stream: resume at once, quietly, once
                    continue
                failures, last_error = self._failed(exc, failures, last_error)
            except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                failures, last_error = self._failed(exc, failures, last_error)
            except Exception as exc:  # a bug or an odd object must not end the watch for good
                log.exception("watch of %s: unexpected error", self._selector)
                failures, last_error = self._failed(exc, failures, last_error)

    def _failed(self, exc: BaseException, failures: int, last_error: str) -> tuple[int, str]:
        if self._stop.is_set():  # the connection was closed under us: we are stopping
            return failures, last_error
        verb = "list" if self._version is None else "watch"
        error = api_error(exc, verb, self._resource, self._namespace)
        self.last_error = error
        self._version = None  # after a failure, start over from a LIST (it says when it heals)
        if error.message != last_error:
            log.warning("%s; retrying with backoff", error.message)
            self._on_error(error)
        failures += 1
        self._stop.wait(min(self._max_backoff, 0.1 * 2 ** min(failures, 10)))
        return failures, error.message

    def _list(self) -> None:
        self.lists += 1
        result = self._list_call(
            self._namespace, label_selector=self._selector, _request_timeout=REQUEST_TIMEOUT
        )
        self._on_sync(list(result.items or []))
        self._version = result.metadata.resource_version
        self.synced.set()

    def _stream(self) -> None:
        self.watches += 1
        for event in self._events():
            if self._stop.is_set():
                return
            raw = event.get("raw_object") or {}
            version = (raw.get("metadata") or {}).get("resourceVersion")
            if version:
                self._version = str(version)
            if event.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                self._on_event(str(event["type"]), event["object"])

    def _events(self) -> Iterator[dict[str, Any]]:
        self._watch = k8s_watch.Watch()  # type: ignore[no-untyped-call]
        stream: Callable[..., Iterator[dict[str, Any]]] = self._watch.stream
        return stream(
            self._list_call,
            self._namespace,
            label_selector=self._selector,
            resource_version=self._version,
            timeout_seconds=self._watch_seconds,
            allow_watch_bookmarks=True,
            _request_timeout=(CONNECT_TIMEOUT, self._watch_seconds + self._read_slack),
        )
