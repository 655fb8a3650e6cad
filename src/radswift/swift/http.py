"""The HTTP plumbing under the Swift client: one urllib3 pool, URL quoting, error wording.

urllib3 rather than requests: no per-request session/adapter machinery, 1 MiB socket
blocks, and connections reused across threads; client CPU per byte is what the
benchmark against `swift upload/download` measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import urllib3

CHUNK_SIZE = 1 << 20
"""Bytes per socket send/receive and per MD5 update: big enough that hashing and
syscalls run on large buffers, small enough to stream."""
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 120.0
"""Generous: a Swift PUT of a large object answers only after fsync on every replica."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpConfig:
    """Connection pool sizing and timeouts."""

    pool_size: int = 16
    """Connections kept per host: the number of worker threads using the client."""
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT


def make_pool(config: HttpConfig) -> urllib3.PoolManager:
    """A thread-safe pool manager: no urllib3 retries (ours live in retry.py), 1 MiB blocks."""
    return urllib3.PoolManager(
        num_pools=4,
        maxsize=max(1, config.pool_size),
        block=False,
        retries=False,
        timeout=urllib3.Timeout(connect=config.connect_timeout, read=config.read_timeout),
        blocksize=CHUNK_SIZE,
    )


def quote_container(name: str) -> str:
    """Percent-encode a container name (UTF-8; a container name has no '/')."""
    return quote(name.encode("utf-8"), safe="")


def quote_object(name: str) -> str:
    """Percent-encode an object name (UTF-8), keeping '/' as Swift's pseudo-directory.

    Segments `.` and `..` are legal object names but URL dot-segments, which HTTP
    libraries collapse: their dots are encoded too."""
    quoted = quote(name.encode("utf-8"), safe="/")
    if "." not in quoted:
        return quoted
    return "/".join(
        seg.replace(".", "%2E") if seg in (".", "..") else seg for seg in quoted.split("/")
    )


def object_path(container: str, name: str | None = None) -> str:
    """`/container[/object]`, quoted, to append to a storage URL."""
    path = "/" + quote_container(container)
    if name is not None:
        path += "/" + quote_object(name)
    return path


def describe_connection_error(exc: BaseException) -> str:
    """The root cause of a urllib3/socket failure in a few words, e.g. 'Connection refused'.

    urllib3's messages embed object reprs and nested causes; users need the reason."""
    chain = _cause_chain(exc)
    for current in chain:
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
    for current in chain:
        if isinstance(current, urllib3.exceptions.NewConnectionError):
            continue  # a subclass of ConnectTimeoutError, but not necessarily a timeout
        if isinstance(current, TimeoutError | urllib3.exceptions.TimeoutError):
            return "timed out"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "connection dropped"
    return type(exc).__name__


def _cause_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps: urllib3's `.reason`, exceptions in args, causes, contexts."""
    chain: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(chain) < 20:
        current = pending.pop(0)
        if any(current is seen for seen in chain):
            continue
        chain.append(current)
        reason = getattr(current, "reason", None)
        nested = [reason] if isinstance(reason, BaseException) else []
        nested += [arg for arg in current.args if isinstance(arg, BaseException)]
        nested += [e for e in (current.__cause__, current.__context__) if e is not None]
        pending.extend(nested)
    return chain
