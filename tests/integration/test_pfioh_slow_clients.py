"""Slow and stalled clients cannot starve pfioh (defect 4 of issue 11).

A stalled client sends a push's headers and the start of its body, then nothing. Such
uploads are aborted after the body idle timeout with nothing stored; while they stall,
listings, status and small reads do not queue behind them, and one client (one address)
can hold only a few pushes at once. Every connection here comes from its own loopback
address (127.0.0.0/8), so "one client" is one address as pfioh sees it.
"""

from __future__ import annotations

import io
import socket
import tarfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from pfioh_helpers import new_key, serve, tar_bytes

from radswift.services.ioh import IohSettings
from radswift.services.ioh.settings import Tuning
from radswift.store.local import LocalStore

STALLED = 100
DECLARED = 10 * 1024 * 1024


def _tar_start() -> bytes:
    """A tar header announcing a big file (a name of its own), and its first 100 bytes."""
    info = tarfile.TarInfo(f"study/{new_key()}.dcm")
    info.size = DECLARED - 1024
    return info.tobuf(format=tarfile.PAX_FORMAT) + b"D" * 100


def stall(base: str, key: str, source: str) -> socket.socket:
    """A push from `source` that sends its headers and 100 body bytes, then nothing."""
    port = int(base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    head = (
        f"POST /api/v1/keys/{key}/input HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/x-tar\r\nContent-Length: {DECLARED}\r\n\r\n"
    )
    sock.sendall(head.encode() + _tar_start())
    return sock


def reply_of(sock: socket.socket, wait: float) -> int | None:
    """The status the server sent on `sock` within `wait` seconds, or None."""
    sock.settimeout(wait)
    try:
        data = sock.recv(4096)
    except TimeoutError:
        return None
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


@contextmanager
def served(tuning: Tuning, tmp_path: Path) -> Iterator[str]:
    store = LocalStore(tmp_path / "store")
    try:
        with serve(store, IohSettings(tuning=tuning)) as base:
            yield base
    finally:
        store.close()


def test_a_hundred_stalled_pushes_leave_the_service_usable(tmp_path: Path) -> None:
    """Half of the stalled pushes come from one address, half from fifty others."""
    with served(Tuning(body_idle_timeout=300), tmp_path) as base, ExitStack() as stack:
        stable = new_key()
        files = {f"s/{i}.dcm": bytes([i]) * 5000 for i in range(20)}
        httpx.post(
            f"{base}/api/v1/keys/{stable}/input",
            content=tar_bytes(files),
            headers={"Content-Type": "application/x-tar"},
        ).raise_for_status()
        one_key = new_key()
        sockets = [stack.enter_context(stall(base, one_key, "127.0.0.2")) for _ in range(50)]
        sockets += [
            stack.enter_context(stall(base, new_key(), f"127.0.1.{i + 1}"))
            for i in range(STALLED - 50)
        ]

        def usable() -> None:
            health = httpx.get(f"{base}/healthz", timeout=10)
            assert health.status_code == 200
            listed = httpx.get(f"{base}/api/v1/keys/{stable}", timeout=10)
            assert listed.json()["count"] == 20
            one = httpx.get(f"{base}/api/v1/keys/{stable}/input/s/3.dcm", timeout=10)
            assert one.content == bytes([3]) * 5000

        with ThreadPoolExecutor(8) as pool:  # several readers at once, while all stall
            for future in [pool.submit(usable) for _ in range(16)]:
                future.result()
        fresh = new_key()
        pushed = httpx.post(
            f"{base}/api/v1/keys/{fresh}/input",
            content=tar_bytes(files),
            headers={"Content-Type": "application/x-tar"},
            timeout=30,
        )
        assert pushed.status_code == 201, pushed.text
        pulled = httpx.get(
            f"{base}/api/v1/keys/{fresh}/input", params={"format": "tar"}, timeout=30
        )
        with tarfile.open(fileobj=io.BytesIO(pulled.content)) as tar:
            assert len(tar.getmembers()) == 20
        refused = [reply_of(s, 0.5) for s in sockets[:50]]
        assert refused.count(429) >= 50 - Tuning().max_pushes_per_client


def test_a_stalled_upload_is_aborted_after_the_idle_timeout_and_stores_nothing(
    tmp_path: Path,
) -> None:
    with served(Tuning(body_idle_timeout=1.0), tmp_path) as base:
        key = new_key()
        started = time.monotonic()
        with stall(base, key, "127.0.0.2") as sock:
            assert reply_of(sock, 30) == 408
        assert time.monotonic() - started < 30
        assert httpx.get(f"{base}/api/v1/keys/{key}", timeout=10).status_code == 404


def test_one_client_holds_at_most_its_share_of_pushes(tmp_path: Path) -> None:
    tuning = Tuning(body_idle_timeout=300, max_pushes_per_client=2)
    with served(tuning, tmp_path) as base, ExitStack() as stack:
        held = [stack.enter_context(stall(base, new_key(), "127.0.0.2")) for _ in range(2)]
        time.sleep(0.5)  # both are admitted and waiting for their bodies
        with stall(base, new_key(), "127.0.0.2") as third:
            assert reply_of(third, 10) == 429
        assert all(reply_of(s, 0.2) is None for s in held)  # still waiting, not refused
        other = httpx.post(
            f"{base}/api/v1/keys/{new_key()}/input",
            timeout=30,
            content=tar_bytes({"a": b"1"}),
            headers={"Content-Type": "application/x-tar"},
        )
        assert other.status_code == 201


def test_pushes_to_one_key_are_bounded(tmp_path: Path) -> None:
    tuning = Tuning(body_idle_timeout=300, max_pushes_per_key=2)
    with served(tuning, tmp_path) as base, ExitStack() as stack:
        key = new_key()
        for i in range(2):
            stack.enter_context(stall(base, key, f"127.0.2.{i + 1}"))
        time.sleep(0.5)
        with stall(base, key, "127.0.2.9") as third:
            assert reply_of(third, 10) == 429
