"""Running pfioh for tests: in a thread (uvicorn on a free loopback port) or as the real
`pfioh` command in a subprocess, plus small tree helpers. Imported by test_pfioh_*.py."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from radswift.services.ioh import IohSettings, create_app
from radswift.services.ioh.protocol import BoundedHttpToolsProtocol
from radswift.store.base import ObjectStore
from radswift.store.local import LocalStore
from radswift.store.swift import SwiftStore
from radswift.swift.credentials import credentials_from_environ


@contextmanager
def serve(store: ObjectStore, settings: IohSettings | None = None) -> Iterator[str]:
    """pfioh over `store` in a uvicorn thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server_box: list[uvicorn.Server] = []

    def stop() -> None:
        server_box[0].should_exit = True

    app = create_app(store, settings or IohSettings(), stop=stop)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", http=BoundedHttpToolsProtocol)
    server = uvicorn.Server(config)
    server_box.append(server)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("pfioh did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def pfioh_process(args: list[str], env: dict[str, str] | None = None) -> Iterator[str]:
    """The real `pfioh` command on a free port; yields its URL; stopped by its PID."""
    port = free_port()
    cmd = [
        str(Path(sys.executable).with_name("pfioh")),
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        *args,
    ]
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stdout:
            proc.stdout.close()


def wait_healthy(url: str, proc: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(f"pfioh exited with {proc.returncode}: {out}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("pfioh did not become healthy")


def tree_digest(root: Path) -> dict[str, str]:
    """relative path -> md5 for files, "dir" for empty directories."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file():
            out[rel] = hashlib.md5(path.read_bytes()).hexdigest()
        elif path.is_dir() and not any(path.iterdir()):
            out[rel] = "dir"
    return out


def tar_bytes(files: dict[str, bytes], *, gz: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


BACKENDS = ["local", pytest.param("swift", marks=pytest.mark.swift)]


def open_backend(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """A LocalStore in tmp_path, or a SwiftStore on the session's real local Swift."""
    if backend == "local":
        return LocalStore(tmp_path / "pfioh-store")
    swift = request.getfixturevalue("local_swift")
    creds = credentials_from_environ(swift.environ())
    assert creds is not None
    return SwiftStore.from_credentials(creds, workers=32)


def new_key() -> str:
    return f"pfioh-{uuid.uuid4().hex[:12]}"


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def listing(url: str, key: str, headers: dict[str, str] | None = None) -> dict[str, str] | None:
    """name -> etag of the key as pfioh shows it, or None if the key does not exist."""
    response = httpx.get(f"{url}/api/v1/keys/{key}", headers=headers, timeout=30)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return {o["name"]: o["etag"] for o in response.json()["objects"]}


def run_pfurl(pfurl: str, url: str, msg: dict[str, object], cwd: Path, *extra: str) -> str:
    """The real `pfurl` POSTing `msg` to pfioh's legacy /api/v1/cmd (from `cwd`); its stdout."""
    host = url.removeprefix("http://")
    done = subprocess.run(
        [
            pfurl,
            "--verb",
            "POST",
            *extra,
            "--quiet",
            "--http",
            f"{host}/api/v1/cmd",
            "--msg",
            json.dumps(msg),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def transfer_msg(action: str, key: str, local: Path) -> dict[str, object]:
    """A pushPath/pullPath message as ChRIS sends it: zip, unpacked, local dir created."""
    return {
        "action": action,
        "meta": {
            "remote": {"key": key},
            "local": {"path": str(local), "createDir": True},
            "transport": {
                "mechanism": "compress",
                "compress": {"archive": "zip", "unpack": True, "cleanup": True},
            },
        },
    }
