"""Hostile and broken uploads: each is refused with a 4xx and the key stays as it was.

Also: limits, a push interrupted mid-stream, and the invisibility of an unfinished push.
"""

from __future__ import annotations

import io
import socket
import stat
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator

import httpx
import pytest
from pfioh_helpers import listing, new_key, serve, tar_bytes, zip_bytes

from radswift.archive import ArchiveLimits
from radswift.services.ioh import IohSettings
from radswift.store.base import ObjectStore

GOOD = {"a.dcm": b"A" * 5000, "b/c.dcm": b"C" * 7000}


@pytest.fixture
def url(store: ObjectStore) -> Iterator[str]:
    limits = ArchiveLimits(max_entries=50, max_total_bytes=2_000_000)
    with serve(store, IohSettings(limits=limits)) as base:
        yield base


def tar_with(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def good_then(info: tarfile.TarInfo, data: bytes | None = None) -> bytes:
    """Two good files first (so a rollback has something to undo), then the bad entry."""
    members: list[tuple[tarfile.TarInfo, bytes | None]] = [
        (tarfile.TarInfo(f"ok/{name}"), body) for name, body in GOOD.items()
    ]
    return tar_with([*members, (info, data)])


def symlink_tar() -> bytes:
    info = tarfile.TarInfo("link")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return good_then(info)


def hardlink_tar() -> bytes:
    info = tarfile.TarInfo("hard")
    info.type, info.linkname = tarfile.LNKTYPE, "ok/a.dcm"
    return good_then(info)


def symlink_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ok.txt", b"fine")
        link = zipfile.ZipInfo("link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    return buf.getvalue()


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ok.txt", b"fine")
        zf.writestr("bomb.bin", bytes(30 * 1024 * 1024))  # 30 MiB of zeros: ~30 KiB deflated
    return buf.getvalue()


def gzip_bomb() -> bytes:
    obj = zlib.compressobj(9, zlib.DEFLATED, 31)
    return obj.compress(tar_bytes({"zeros.bin": bytes(30 * 1024 * 1024)})) + obj.flush()


def special_header_tar(kind: bytes, data: bytes, declared: int | None = None) -> bytes:
    """A special tar header (pax, GNU long name) with `data`, declaring `declared` bytes."""
    info = tarfile.TarInfo("././@Special")
    info.type, info.size = kind, len(data) if declared is None else declared
    member = tarfile.TarInfo("after.txt")
    return (
        info.tobuf(tarfile.USTAR_FORMAT)
        + data
        + bytes(-len(data) % 512)
        + member.tobuf(tarfile.USTAR_FORMAT)
        + bytes(1024)
    )


HOSTILE = {
    "tar huge pax header": (
        lambda: special_header_tar(tarfile.XHDTYPE, b"", declared=200 * 1024 * 1024),
        "x-tar",
        413,
    ),
    "tar huge gnu long name": (
        lambda: special_header_tar(tarfile.GNUTYPE_LONGNAME, b"", declared=200 * 1024 * 1024),
        "x-tar",
        413,
    ),
    "tar pax header of digits": (
        lambda: special_header_tar(tarfile.XHDTYPE, b"1" * 120_000),
        "x-tar",
        413,
    ),
    "tar malformed gnu sparse map": (
        lambda: special_header_tar(tarfile.XHDTYPE, b"23 GNU.sparse.map=1,x,\n"),
        "x-tar",
        400,
    ),
    "tar zip-slip": (lambda: good_then(tarfile.TarInfo("../../evil.txt"), b"x"), "x-tar", 400),
    "tar absolute path": (lambda: good_then(tarfile.TarInfo("/etc/evil"), b"x"), "x-tar", 400),
    "tar symlink": (symlink_tar, "x-tar", 400),
    "tar hard link": (hardlink_tar, "x-tar", 400),
    "zip zip-slip": (lambda: zip_bytes({"ok.txt": b"1", "../../evil.txt": b"x"}), "zip", 400),
    "zip absolute path": (lambda: zip_bytes({"ok.txt": b"1", "/abs.txt": b"x"}), "zip", 400),
    "zip symlink": (symlink_zip, "zip", 400),
    "zip bomb": (zip_bomb, "zip", 413),
    "gzip bomb": (gzip_bomb, "gzip", 413),
    "truncated tar": (lambda: tar_bytes(GOOD)[:6000], "x-tar", 400),
    "truncated zip": (lambda: zip_bytes(GOOD)[:-30], "zip", 400),
    "too many entries": (lambda: tar_bytes({f"f{i}": b"x" for i in range(60)}), "x-tar", 413),
    "too many bytes": (
        lambda: tar_bytes({f"f{i}": bytes(500_000) for i in range(5)}),
        "x-tar",
        413,
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_or_broken_archive_is_refused_and_the_key_is_unchanged(
    url: str, case: str
) -> None:
    build, media, status = HOSTILE[case]
    key = new_key()
    httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        content=tar_bytes({"before.txt": b"b"}),
        headers={"Content-Type": "application/x-tar"},
    ).raise_for_status()
    before = listing(url, key)
    reply = httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        content=build(),
        headers={"Content-Type": f"application/{media}"},
        timeout=60,
    )
    assert reply.status_code == status, reply.text
    assert set(reply.json()) == {"error", "detail"}
    assert listing(url, key) == before


@pytest.mark.parametrize("case", ["tar zip-slip", "zip bomb", "truncated tar"])
def test_a_refused_push_to_a_new_key_does_not_create_it(
    url: str, store: ObjectStore, case: str
) -> None:
    build, media, status = HOSTILE[case]
    key = new_key()
    reply = httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        content=build(),
        headers={"Content-Type": f"application/{media}"},
        timeout=60,
    )
    assert reply.status_code == status
    assert listing(url, key) is None
    assert not store.container_exists(key)


def test_multipart_file_names_are_checked_too(url: str) -> None:
    key = new_key()
    reply = httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        files=[("f", ("ok.txt", b"1")), ("f", ("../evil.txt", b"x"))],
    )
    assert reply.status_code == 400 and reply.json()["error"] == "path_traversal"
    assert listing(url, key) is None


def _raw_upload(url: str, key: str, head_of_body: bytes, total: int) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(
        (
            f"POST /api/v1/keys/{key}/input HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/x-tar\r\nContent-Length: {total}\r\n\r\n"
        ).encode()
        + head_of_body
    )
    return sock


def _wait_for(predicate: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_an_unfinished_push_is_invisible_and_an_interrupted_one_leaves_nothing(
    url: str, store: ObjectStore
) -> None:
    key = new_key()
    files = {f"s/{i:03d}.dcm": bytes([i]) * 20_000 for i in range(20)}
    body = tar_bytes(files)
    sock = _raw_upload(url, key, body[: len(body) // 2], len(body))
    try:
        # the server stores what it has received so far...
        assert _wait_for(
            lambda: store.container_exists(key) and any(True for _ in store.list_objects(key))
        )
        # ...but pfioh's readers do not see any of it while the push is unfinished
        assert listing(url, key) == {}
        pulled = httpx.get(f"{url}/api/v1/keys/{key}/input", params={"format": "tar"})
        with tarfile.open(fileobj=io.BytesIO(pulled.content)) as tar:
            assert tar.getnames() == []
    finally:
        sock.close()  # the client goes away mid-body
    assert _wait_for(lambda: not store.container_exists(key)), "the half push was not removed"
    assert listing(url, key) is None


def _ti(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


REPLACING = {
    "zip-slip after an overwrite": lambda: tar_with(
        [(_ti("before.txt"), b"NEW"), (_ti("new.txt"), b"n"), (_ti("../evil"), b"x")]
    ),
    "truncated after an overwrite": lambda: tar_bytes(
        {"before.txt": b"NEW" * 1000, "big.dcm": b"x" * 20_000}
    )[:-12_000],
}


@pytest.mark.parametrize("case", sorted(REPLACING))
def test_a_refused_replacing_push_leaves_the_key_unchanged(url: str, case: str) -> None:
    key = new_key()
    httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        content=tar_bytes({"before.txt": b"b", "other.txt": b"o"}),
        headers={"Content-Type": "application/x-tar"},
    ).raise_for_status()
    before = listing(url, key)
    reply = httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        params={"replace": "true"},
        content=REPLACING[case](),
        headers={"Content-Type": "application/x-tar"},
    )
    assert reply.status_code == 400, reply.text
    assert listing(url, key) == before
