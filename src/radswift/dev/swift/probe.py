"""Waiting until the local Swift really serves: every backend listens, and an
authenticated HEAD of the admin's account succeeds through the proxy.

While waiting, a server that died is reported at once with the tail of its log, instead
of a time-out much later.
"""

from __future__ import annotations

import http.client
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from radswift.dev.swift import processes
from radswift.dev.swift.state import SwiftState
from radswift.errors import StorageUnavailable

_POLL_S = 0.05
_BACKENDS = ("account", "container", "object")


def wait_ready(state: SwiftState, timeout: float, log_dir: Path) -> None:
    """Return once Swift answers; raise StorageUnavailable on a dead server or time-out."""
    deadline = time.monotonic() + timeout
    last_problem = "not probed yet"
    while time.monotonic() < deadline:
        _raise_if_dead(state, log_dir)
        problem = _probe(state)
        if problem is None:
            return
        last_problem = problem
        time.sleep(_POLL_S)
    raise StorageUnavailable(
        f"local Swift in {state.workdir} not ready after {timeout:.0f} s: {last_problem} "
        f"(logs in {log_dir})"
    )


def _raise_if_dead(state: SwiftState, log_dir: Path) -> None:
    for name, ref in state.processes.items():
        if not processes.is_alive(ref):
            raise StorageUnavailable(
                f"local Swift {name} server exited during start: {_log_tail(log_dir, name)}"
            )


def _log_tail(log_dir: Path, name: str, lines: int = 5) -> str:
    try:
        text = (log_dir / f"{name}.log").read_text(errors="replace")
    except OSError:
        return "(no log)"
    return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"


def _probe(state: SwiftState) -> str | None:
    """None if Swift serves, else what is not working yet."""
    for name in _BACKENDS:
        try:
            socket.create_connection((state.host, state.ports[name]), timeout=1).close()
        except OSError as exc:
            return f"{name} server not listening ({exc})"
    try:
        return _probe_proxy(state)
    except (OSError, http.client.HTTPException) as exc:
        return f"proxy not answering ({exc})"


def _probe_proxy(state: SwiftState) -> str | None:
    conn = http.client.HTTPConnection(state.host, state.ports["proxy"], timeout=5)
    try:
        if not state.users:  # a custom auth pipeline: the healthcheck is all we can ask
            conn.request("GET", "/healthcheck")
            resp = conn.getresponse()
            resp.read()
            return None if resp.status == 200 else f"healthcheck answered {resp.status}"
        user = state.users[0]
        conn.request(
            "GET", "/auth/v1.0", headers={"X-Auth-User": user.user, "X-Auth-Key": user.key}
        )
        resp = conn.getresponse()
        resp.read()
        token, storage_url = resp.getheader("X-Auth-Token"), resp.getheader("X-Storage-Url")
        if resp.status != 200 or not token or not storage_url:
            return f"auth answered {resp.status}"
        conn.request("HEAD", urlsplit(storage_url).path, headers={"X-Auth-Token": token})
        resp = conn.getresponse()
        resp.read()
        return None if resp.status // 100 == 2 else f"account HEAD answered {resp.status}"
    finally:
        conn.close()
