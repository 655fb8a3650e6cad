"""What the bundle-layout tests of pfioh share: a tree with every awkward kind of entry
(nested, empty files and dirs, non-ASCII names), archives of it, and short ways to push,
pull and list through the REST API. Imported by test_pfioh_bundle*.py."""

from __future__ import annotations

import io
import os
import socket
import tarfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx

BUNDLE = "input/.radswift-bundle.tar"
TREE = {
    "series1/img001.dcm": os.urandom(300_000),
    "series1/deeper/nested/img002.dcm": os.urandom(70_000),
    "empty.dcm": b"",
    "Ünïcødé/名前 with space.dcm": b"\x00DICM" * 500,
    "notes.txt": b"findings: none\n",
}
EMPTY_DIRS = ("series2/empty", "void")
SMALL_SEGMENT = 64 * 1024


def archive_of(root: Path, kind: str) -> bytes:
    """The tree as a tar, tar.gz or zip, with directory entries for the empty dirs."""
    buf = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buf, "w") as zf:
            for path in sorted(root.rglob("*")):
                rel = path.relative_to(root).as_posix()
                zf.write(path, rel + "/" if path.is_dir() else rel)
        return buf.getvalue()
    with tarfile.open(fileobj=buf, mode="w:gz" if kind == "tar.gz" else "w") as tar:
        tar.add(root, arcname=".")
    return buf.getvalue()


def push(url: str, key: str, body: bytes, kind: str = "tar", **params: str) -> httpx.Response:
    types = {"tar": "application/x-tar", "tar.gz": "application/gzip", "zip": "application/zip"}
    return httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        content=body,
        timeout=60,
        params={"layout": "bundle", **params},
        headers={"Content-Type": types[kind]},
    )


def pulled(url: str, key: str, fmt: str, dest: Path) -> Path:
    """Pull the input area as `fmt` and unpack it with Python's own tarfile/zipfile."""
    reply = httpx.get(f"{url}/api/v1/keys/{key}/input", params={"format": fmt}, timeout=60)
    assert reply.status_code == 200, reply.text
    if fmt == "zip":
        with zipfile.ZipFile(io.BytesIO(reply.content)) as zf:
            zf.extractall(dest)
    else:
        with tarfile.open(fileobj=io.BytesIO(reply.content)) as tar:
            tar.extractall(dest, filter="data")
    return dest


def key_listing(url: str, key: str) -> dict[str, object]:
    reply = httpx.get(f"{url}/api/v1/keys/{key}", timeout=30)
    reply.raise_for_status()
    body: dict[str, object] = reply.json()
    return body


def names(url: str, key: str) -> dict[str, str]:
    objects = key_listing(url, key)["objects"]
    assert isinstance(objects, list)
    return {o["name"]: o["etag"] for o in objects}


def raw_upload(
    url: str, key: str, head_of_body: bytes, total: int, query: str = "layout=bundle"
) -> socket.socket:
    """A push of `total` bytes of which only `head_of_body` is sent: the push is held
    mid-way until the test sends the rest (finish_upload) or closes the socket."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(
        (
            f"POST /api/v1/keys/{key}/input?{query} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/x-tar\r\nContent-Length: {total}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        + head_of_body
    )
    return sock


def finish_upload(sock: socket.socket, rest: bytes) -> int:
    """Send the rest of a raw_upload body; the HTTP status of the reply."""
    sock.settimeout(60)
    sock.sendall(rest)
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    sock.close()
    return int(reply.split(b" ", 2)[1])


def until(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
