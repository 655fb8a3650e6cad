"""The HTTP plumbing under the Swift client: one urllib3 pool, URL quoting, error wording.

urllib3 rather than requests: no per-request session/adapter machinery, 1 MiB socket
blocks, and connections reused across threads; client CPU per byte is what the
benchmark against `swift upload/download` measures.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import urllib3

from radswift.errors import StorageUnavailable

CHUNK_SIZE = 1 << 20
"""Bytes per socket send/receive and per MD5 update: big enough that hashing and
syscalls run on large buffers, small enough to stream."""
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 120.0
"""Generous: a Swift PUT of a large object answers only after fsync on every replica."""
DEFAULT_PORTS = {"http": 80, "https": 443}


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


@dataclass(frozen=True, slots=True)
class ConnectionProblem:
    """Why a connection failed, in plain words; `reached` if the server was connected to."""

    words: str
    reached: bool = False


class Unreachable(StorageUnavailable):
    """No HTTP answer from `service` at `origin`: refused, timed out, DNS, TLS, dropped.

    A StorageUnavailable (callers catch that); its parts are kept apart so that the retry
    loop can say once what was tried, why it failed, how often, and where to look
    (`hint`, e.g. "check ST_AUTH"). `origin` is scheme://host:port only: a path may name
    an account and a query may carry a temp-URL signature."""

    def __init__(
        self,
        service: str,
        origin: str,
        problem: ConnectionProblem,
        hint: str = "",
        *,
        message: str = "",
    ) -> None:
        verb = "lost the connection to" if problem.reached else "cannot reach"
        super().__init__(
            message or f"{verb} {service} at {origin} ({problem.words})",
            reason=StorageUnavailable.__name__,  # the services' JSON names the public type
        )
        self.service = service
        self.origin = origin
        self.problem = problem
        self.hint = hint


def origin_of(url: str) -> str:
    """`scheme://host:port` of `url`, the port made explicit; no user, path or query."""
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number
        port = None
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


def diagnose(exc: BaseException) -> ConnectionProblem:
    """What went wrong with a connection, from a urllib3/socket/ssl error and its causes.

    urllib3's messages embed object reprs and nested causes; users need the reason."""
    chain = _cause_chain(exc)
    for current in chain:
        if isinstance(current, ssl.SSLError):
            return _tls_problem(current)
    for current in chain:
        if isinstance(current, socket.gaierror):
            return ConnectionProblem(f"DNS lookup failed: {_lower(current.strerror)}")
        if isinstance(current, ConnectionRefusedError):
            return ConnectionProblem("connection refused")
        if isinstance(current, http.client.RemoteDisconnected):
            return ConnectionProblem("closed by the server without a response", reached=True)
        if isinstance(current, ConnectionResetError | BrokenPipeError):
            return ConnectionProblem("connection reset by the server", reached=True)
    for current in chain:
        if isinstance(current, urllib3.exceptions.ReadTimeoutError):
            return ConnectionProblem("no response before the read timeout", reached=True)
        if isinstance(current, urllib3.exceptions.NewConnectionError):
            continue  # a subclass of ConnectTimeoutError, but not necessarily a timeout
        if isinstance(current, TimeoutError | urllib3.exceptions.TimeoutError):
            return ConnectionProblem("connection timed out")
    for current in chain:
        if isinstance(current, OSError) and current.strerror:
            return ConnectionProblem(_lower(current.strerror))
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return ConnectionProblem("connection dropped", reached=True)
    return ConnectionProblem(type(exc).__name__)


def describe_connection_error(exc: BaseException) -> str:
    """The root cause of a urllib3/socket failure in a few words, e.g. 'connection refused'."""
    return diagnose(exc).words


def _tls_problem(exc: ssl.SSLError) -> ConnectionProblem:
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return ConnectionProblem("closed during the TLS handshake", reached=True)
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return ConnectionProblem(f"TLS error: certificate not trusted: {exc.verify_message}")
    text = re.sub(r"^\[[^]]*\]\s*|\s*\(_ssl\.c:\d+\)$", "", exc.strerror or "")
    if exc.reason == "WRONG_VERSION_NUMBER":
        text += "; plain http on this port?"
    return ConnectionProblem(f"TLS error: {_lower(text or exc.reason or type(exc).__name__)}")


def _lower(text: str | None) -> str:
    """'Connection refused' -> 'connection refused', to sit inside a sentence."""
    if not text:
        return "unknown error"
    return text[0].lower() + text[1:] if text[1:2].islower() else text


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
