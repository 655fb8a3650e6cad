"""pfioh under attack keeps its memory bounded and keeps answering.

The real `pfioh` command (local store, token auth) takes 16 hostile uploads of each kind
at once: a tar with a 200 MiB pax header, a tar with a 200 MiB GNU long name, a legacy
form whose d_msg field is 300 MiB, and compression bombs (tar.gz and zip). Each hostile
body streams up to STREAMED bytes (the hostile part first), as fast as pfioh takes them.
Meanwhile /healthz and a listing are asked every 100 ms. Before issue #11's fixes the
pax and long-name uploads alone took pfioh past 1.7 GiB, and a header of digits stalled
every request for seconds.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from pfioh_helpers import free_port, new_key, wait_healthy

MIB = 1024 * 1024
PEAK_LIMIT = 150 * MIB
ANSWER_WITHIN = 1.0  # seconds, for /healthz and a listing, throughout (on a quiet machine)
LOAD_ALLOWANCE = 10  # a machine busy with other work: up to 10 x its idle answer time
EACH = 16
STREAMED = 24 * MIB  # at most this much of each streamed hostile body is sent
TOKEN = "attack-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

pytestmark = pytest.mark.slow


def special_tar_header(kind: bytes, declared: int) -> bytes:
    info = tarfile.TarInfo("././@Special")
    info.type, info.size = kind, declared
    return info.tobuf(tarfile.USTAR_FORMAT)


def streamed(head: bytes, filler: bytes = b"\0") -> Iterator[bytes]:
    """`head`, then `filler` up to STREAMED bytes, made as it is sent."""
    yield head
    block = filler * (64 * 1024 // len(filler))
    for _ in range((STREAMED - len(head)) // len(block)):
        yield block


def gzip_bomb() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 200 * MIB
        tar.addfile(info)  # header only: the data is made below, compressed as it goes
    obj = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [obj.compress(buf.getvalue()[:512])]
    zeros = bytes(MIB)
    parts += [obj.compress(zeros) for _ in range(200)]
    parts.append(obj.compress(bytes(1024)) + obj.flush())
    return b"".join(parts)


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        zeros = bytes(MIB)
        for _ in range(200):
            member.write(zeros)
    return buf.getvalue()


def legacy_field_form() -> tuple[Iterator[bytes], str]:
    boundary = "attackboundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="d_msg"\r\n\r\n'.encode()
    return streamed(head + b"{", filler=b" "), f"multipart/form-data; boundary={boundary}"


def send(url: str, kind: str, bombs: dict[str, bytes]) -> tuple[str, int | str]:
    """One hostile upload; its status, or how the server cut it off."""
    key = new_key()
    headers = dict(AUTH)
    target = f"{url}/api/v1/keys/{key}/input"
    body: bytes | Iterator[bytes]
    if kind == "pax header":
        body = streamed(special_tar_header(tarfile.XHDTYPE, 200 * MIB))
        headers["Content-Type"] = "application/x-tar"
    elif kind == "long name":
        body = streamed(special_tar_header(tarfile.GNUTYPE_LONGNAME, 200 * MIB))
        headers["Content-Type"] = "application/x-tar"
    elif kind == "form field":
        body, headers["Content-Type"] = legacy_field_form()
        headers["Mode"] = "file"
        target = f"{url}/api/v1/cmd"
    else:
        fmt = "gzip" if kind == "gzip bomb" else "zip"
        body, headers["Content-Type"] = bombs[kind], f"application/{fmt}"
    try:
        reply = httpx.post(target, content=body, headers=headers, timeout=60)
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
        return kind, type(exc).__name__  # refused mid-body: the server closed the connection
    return kind, reply.status_code


PROBE = """
import json, sys, threading, time, httpx
url, key, token, budget = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
def ask(client):
    worst = 0.0
    for path in ("/healthz", "/api/v1/keys/" + key):
        started = time.monotonic()
        try:
            status = client.get(url + path).status_code
        except httpx.TransportError as exc:
            failures.append(path + ": " + type(exc).__name__)
            continue
        worst = max(worst, time.monotonic() - started)
        if status != 200:
            failures.append(path + ": HTTP " + str(status))
    return worst
failures, asked, slowest, idle = [], 0, 0.0, 0.0
with httpx.Client(headers={"Authorization": "Bearer " + token}, timeout=budget * 5) as client:
    for _ in range(10):  # the same questions before the attack: how loaded the machine is
        idle = max(idle, ask(client))
        time.sleep(0.1)
    print("ready", flush=True)
    while not stop.wait(0.1):
        slowest = max(slowest, ask(client))
        asked += 2
print(json.dumps({"slowest": slowest, "idle": idle, "failures": failures, "asked": asked}))
"""


class Watch:
    """Samples pfioh's RSS, and (in a process of its own, so that the uploading threads
    here do not delay it) times /healthz and a listing every 100 ms, until stopped."""

    def __init__(self, url: str, pid: int, key: str) -> None:
        self.process = psutil.Process(pid)
        self.peak_rss = 0
        self.probe: dict[str, Any] = {}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._rss)
        self._prober = subprocess.Popen(
            [sys.executable, "-c", PROBE, url, key, TOKEN, str(ANSWER_WITHIN)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def __enter__(self) -> Watch:
        assert self._prober.stdout is not None
        assert self._prober.stdout.readline() == "ready\n"  # asking before the attack starts
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sampler.join(10)
        out, _ = self._prober.communicate("", timeout=30)
        self.probe = json.loads(out)

    def _rss(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)


def run_pfioh(tmp_path: Path) -> tuple[str, subprocess.Popen[str]]:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN}\n")
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("pfioh")), "--ip", "127.0.0.1", "--port",
         str(port), "--forever", "--enableTokenAuth", "--tokenPath", str(tokens),
         "--storeBase", str(tmp_path / "store")],
        env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc)
    return url, proc


KINDS: dict[str, int] = {
    "pax header": 413,
    "long name": 413,
    "form field": 413,
    "gzip bomb": 413,
    "zip bomb": 413,
}


def test_memory_stays_bounded_and_pfioh_answers_under_64_hostile_uploads(
    tmp_path: Path,
) -> None:
    bombs = {"gzip bomb": gzip_bomb(), "zip bomb": zip_bomb()}
    url, proc = run_pfioh(tmp_path)
    try:
        listed = new_key()
        httpx.put(f"{url}/api/v1/keys/{listed}/input/a.txt", content=b"a", headers=AUTH)
        jobs: list[Callable[[], tuple[str, int | str]]] = []
        for kind in KINDS:
            count = EACH // 2 if kind.endswith("bomb") else EACH  # 16 bombs: 8 of each
            jobs += [lambda kind=kind: send(url, kind, bombs) for _ in range(count)]  # type: ignore[misc]
        baseline = psutil.Process(proc.pid).memory_info().rss
        with Watch(url, proc.pid, listed) as watch, ThreadPoolExecutor(len(jobs)) as pool:
            started = time.monotonic()
            results = list(pool.map(lambda job: job(), jobs))
            seconds = time.monotonic() - started
        assert proc.poll() is None, "pfioh died"
        probe = watch.probe
        print(
            f"baseline {baseline / MIB:.0f} MiB, peak {watch.peak_rss / MIB:.0f} MiB; "
            f"{probe['asked']} answers, the slowest in {probe['slowest'] * 1000:.0f} ms "
            f"({probe['idle'] * 1000:.0f} ms before the attack); "
            f"{len(results)} uploads in {seconds:.1f} s"
        )
        assert watch.peak_rss < PEAK_LIMIT, f"peak RSS {watch.peak_rss / MIB:.0f} MiB"
        assert not probe["failures"], probe["failures"][:5]
        assert probe["asked"] > 0
        within = max(ANSWER_WITHIN, LOAD_ALLOWANCE * probe["idle"])
        assert probe["slowest"] < within, f"slowest answer {probe['slowest']:.2f} s"
        for kind, outcome in results:
            assert outcome in (KINDS[kind], "WriteError", "RemoteProtocolError", "ReadError"), (
                kind,
                outcome,
            )
        refused = [o for _, o in results if isinstance(o, int)]
        assert len(refused) >= len(results) // 2, results  # most saw their 4xx reply
        listing = httpx.get(f"{url}/api/v1/keys/{listed}", headers=AUTH).json()
        assert [o["name"] for o in listing["objects"]] == ["input/a.txt"]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
