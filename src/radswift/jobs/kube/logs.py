"""A step's output from the API server: `GET pods/NAME/log?container=STEP`, streamed.

Every pod of a job has the same three containers (init `get`, `processor`, `publish`);
worker N's pod is the one whose completion index is N. With `follow` the API server keeps
the response open until the container ends, and the chunks are yielded as they arrive
(decoded incrementally, so a character split across chunks is not mangled).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

from radswift.errors import NotFound
from radswift.jobs.kube.api import CONNECT_TIMEOUT, REQUEST_TIMEOUT, api_error
from radswift.jobs.lifecycle import Step

FOLLOW_READ_TIMEOUT = 24 * 3600.0
"""A followed step may be silent for hours (the client wants a number, not None)."""


def stream_log(
    core: Any, namespace: str, pod: str, step: Step, *, tail: int | None, follow: bool
) -> Iterator[str]:
    """Yield the container's log as text chunks; errors are radswift errors."""
    try:
        response = core.read_namespaced_pod_log(
            pod,
            namespace,
            container=step.value,
            tail_lines=tail,
            follow=follow,
            _preload_content=False,
            _request_timeout=(CONNECT_TIMEOUT, FOLLOW_READ_TIMEOUT) if follow else REQUEST_TIMEOUT,
        )
    except ApiException as exc:
        if exc.status == 400:  # "container ... is waiting to start", "PodInitializing"
            raise NotFound(
                f"step {step.value} of pod {pod} has no output yet: {exc.reason}"
            ) from None
        raise api_error(exc, "get", "pods/log", namespace) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise api_error(exc, "get", "pods/log", namespace) from None
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        for chunk in response.stream(amt=None, decode_content=False):
            text = decoder.decode(chunk)
            if text:
                yield text
        rest = decoder.decode(b"", final=True)
        if rest:
            yield rest
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise api_error(exc, "get", "pods/log", namespace) from None
    finally:
        response.release_conn()
