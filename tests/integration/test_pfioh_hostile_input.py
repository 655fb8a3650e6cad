"""What pfioh's writers refuse is exactly what its readers would refuse, and every push path
applies the same limits; keys are one deliberate alphabet; malformed input is a 4xx.

Each test here reproduced a defect of issue #11 against the code before its fix.
"""

from __future__ import annotations

import contextlib
import io
import json
import urllib.parse
import zipfile
from collections.abc import Iterator

import httpx
import pytest
from pfioh_helpers import listing, new_key, serve, tar_bytes

from radswift.archive import ArchiveLimits
from radswift.services.ioh import IohSettings
from radswift.store.base import ObjectStore

KIB = 1024
LIMITS = ArchiveLimits(max_total_bytes=1024 * KIB, max_entry_bytes=512 * KIB)
TOO_BIG = b"x" * (600 * KIB)  # over the entry cap, under the total cap
HUGE = b"y" * (5 * 1024 * KIB)  # over both


@pytest.fixture
def url(store: ObjectStore) -> Iterator[str]:
    with serve(store, IohSettings(limits=LIMITS)) as base:
        yield base


def refused(reply: httpx.Response, status: int, reason: str | None = None) -> dict[str, str]:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert "error" in body and "detail" in body, body
    if reason is not None:
        assert body["error"] == reason, body
    return dict(body)


def legacy_form(url: str, key: str, data: bytes, archive: str = "zip") -> httpx.Response:
    msg = {
        "action": "pushPath",
        "meta": {
            "remote": {"key": key},
            "local": {"path": "/data/in"},
            "transport": {"mechanism": "compress", "compress": {"archive": archive}},
        },
    }
    return httpx.post(
        f"{url}/api/v1/cmd",
        headers={"Mode": "file"},
        data={"d_msg": json.dumps(msg), "filename": "scan.nii"},
        files={"local": ("scan.nii", data, "application/octet-stream")},
        timeout=60,
    )


# --- (7) one set of limits, applied by every push path ----------------------------------


@pytest.mark.parametrize("body", [TOO_BIG, HUGE], ids=["over-entry-cap", "over-both"])
def test_a_single_file_put_obeys_the_limits(url: str, body: bytes) -> None:
    key = new_key()
    reply = httpx.put(f"{url}/api/v1/keys/{key}/input/big.nii", content=body, timeout=60)
    refused(reply, 413)
    assert listing(url, key) is None


@pytest.mark.parametrize("layout", ["objects", "bundle"])
def test_a_multipart_push_obeys_the_entry_cap(url: str, layout: str) -> None:
    key = new_key()
    reply = httpx.post(
        f"{url}/api/v1/keys/{key}/input?layout={layout}",
        files=[("f", ("ok.txt", b"fine")), ("f", ("big.nii", TOO_BIG))],
        timeout=60,
    )
    refused(reply, 413)
    assert listing(url, key) is None


@pytest.mark.parametrize("layout", ["objects", "bundle"])
def test_an_archive_push_obeys_the_entry_cap(url: str, layout: str) -> None:
    key = new_key()
    reply = httpx.post(
        f"{url}/api/v1/keys/{key}/input?layout={layout}",
        content=tar_bytes({"big.nii": TOO_BIG}),
        headers={"Content-Type": "application/x-tar"},
        timeout=60,
    )
    refused(reply, 413)
    assert listing(url, key) is None


def test_a_legacy_raw_file_push_obeys_the_entry_cap(url: str) -> None:
    key = new_key()
    reply = legacy_form(url, key, TOO_BIG, archive="none")
    refused(reply, 413)
    assert reply.json()["status"] is False
    assert listing(url, key) is None


def test_a_legacy_form_field_over_its_limit_is_refused(url: str) -> None:
    reply = httpx.post(
        f"{url}/api/v1/cmd",
        headers={"Mode": "file"},
        data={"d_msg": "{" + " " * (2 * 1024 * KIB) + "}", "filename": "x.zip"},
        files={"local": ("x.zip", b"PK", "application/zip")},
        timeout=60,
    )
    refused(reply, 413)


def test_pushes_within_the_limits_still_work(url: str) -> None:
    key = new_key()
    small = b"z" * (100 * KIB)
    assert httpx.put(f"{url}/api/v1/keys/{key}/input/a.nii", content=small).status_code == 201
    multipart = httpx.post(f"{url}/api/v1/keys/{key}/output", files=[("f", ("b.nii", small))])
    assert multipart.status_code == 201, multipart.text
    assert sorted(listing(url, key) or {}) == ["input/a.nii", "output/b.nii"]


# --- (6) one path registry for every push form ------------------------------------------

CLASHES = {
    "file then a file under it": [("a", b"1"), ("a/b", b"2")],
    "file under, then the file": [("a/b", b"2"), ("a", b"1")],
    "the same file twice": [("a", b"1"), ("a", b"2")],
    "the same file twice, spelled apart": [("a/b", b"1"), ("a//./b", b"2")],
}


@pytest.mark.parametrize("layout", ["objects", "bundle"])
@pytest.mark.parametrize("case", sorted(CLASHES))
def test_a_multipart_push_of_paths_no_reader_accepts_is_refused(
    url: str, layout: str, case: str
) -> None:
    key = new_key()
    files = [("f", (name, data)) for name, data in CLASHES[case]]
    reply = httpx.post(f"{url}/api/v1/keys/{key}/input?layout={layout}", files=files)
    refused(reply, 400, "duplicate_entry")
    assert listing(url, key) is None


def test_a_push_that_would_put_a_file_under_a_stored_file_is_refused(url: str) -> None:
    key = new_key()
    first = httpx.post(f"{url}/api/v1/keys/{key}/input", files=[("f", ("a", b"1"))])
    assert first.status_code == 201
    before = listing(url, key)
    for name in ("a/b", "a/b/c"):
        reply = httpx.post(f"{url}/api/v1/keys/{key}/input", files=[("f", (name, b"2"))])
        refused(reply, 409)
        put = httpx.put(f"{url}/api/v1/keys/{key}/input/{name}", content=b"2")
        refused(put, 409)
    assert listing(url, key) == before
    zipped = httpx.get(f"{url}/api/v1/keys/{key}/input", timeout=30)
    assert zipfile.ZipFile(io.BytesIO(zipped.content)).namelist() == ["a"]


# --- (8) keys: one alphabet, and Content-Disposition per RFC 6266 -----------------------

BAD_KEYS = ["日本", 'k"ey', "k;ey", "a b", "tab\tkey", "del\x7fkey", "k%22y", "k\\ey"]


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_a_key_outside_the_alphabet_is_refused_before_anything_is_stored(
    url: str, store: ObjectStore, bad: str
) -> None:
    quoted = "/api/v1/keys/" + urllib.parse.quote(bad, safe="")
    push = httpx.post(f"{url}{quoted}/input", files=[("f", ("a.txt", b"1"))])
    refused(push, 400, "InvalidName")
    put = httpx.put(f"{url}{quoted}/input/a.txt", content=b"1")
    refused(put, 400, "InvalidName")
    assert not store.container_exists(bad)


def test_a_crlf_key_is_a_clean_400(url: str) -> None:
    reply = httpx.get(f"{url}/api/v1/keys/a%0D%0Ab/input")
    refused(reply, 400, "InvalidName")


def test_an_archive_download_names_its_file_per_rfc_6266(url: str) -> None:
    key = new_key() + ".v1_x-y"
    ok = httpx.post(f"{url}/api/v1/keys/{key}/output", files=[("f", ("r.txt", b"r"))])
    assert ok.status_code == 201, ok.text
    reply = httpx.get(f"{url}/api/v1/keys/{key}/output?format=tar")
    assert reply.status_code == 200
    disposition = reply.headers["content-disposition"]
    assert disposition == (
        f"attachment; filename=\"{key}-output.tar\"; filename*=UTF-8''{key}-output.tar"
    )


# --- (9) malformed legacy messages are a 4xx ---------------------------------------------


@pytest.mark.parametrize("depth", [2_000, 5_000])
def test_a_deeply_nested_legacy_message_is_a_400(url: str, depth: int) -> None:
    text = '{"action": "hello", "meta": ' + "[" * depth + "]" * depth + "}"
    control = httpx.post(
        f"{url}/api/v1/cmd", content=text.encode(), headers={"Mode": "control"}, timeout=30
    )
    refused(control, 400)
    query = httpx.get(f"{url}/api/v1/cmd", params={"meta": "[" * depth}, timeout=30)
    assert query.status_code in (400, 413), query.text
    assert httpx.get(f"{url}/healthz").status_code == 200


# --- a refused upload is not read to its end ---------------------------------------------


def test_a_refused_upload_closes_the_connection_instead_of_reading_the_rest(url: str) -> None:
    """Keeping the connection alive would mean reading (and dropping) the whole declared
    body on the event loop: 200 MiB of work for an upload refused after 512 bytes."""
    import socket
    import tarfile

    declared = 200 * 1024 * KIB
    header = tarfile.TarInfo("././@PaxHeader")
    header.type, header.size = tarfile.XHDTYPE, declared
    host, port = url.removeprefix("http://").split(":")
    sent, received = 0, b""
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"POST /api/v1/keys/{new_key()}/input HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/x-tar\r\nContent-Length: {declared}\r\n\r\n".encode()
            + header.tobuf(tarfile.USTAR_FORMAT)
        )
        sock.settimeout(0.05)
        while sent < 64 * 1024 * KIB:
            try:
                sock.sendall(bytes(64 * KIB))
                sent += 64 * KIB
                more = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # reset: the server closed the connection
                break
            if not more:
                break
            received += more
    assert sent < 16 * 1024 * KIB, f"the server read {sent} bytes of a refused upload"
    assert received.startswith(b"HTTP/1.1 413") or not received, received[:100]


@pytest.mark.parametrize("head", [b"GET /api/v1/cmd?meta=", b"GET /healthz HTTP/1.1\r\nX-Big: "])
def test_a_request_line_or_header_without_end_is_refused_at_64_kib(url: str, head: bytes) -> None:
    """Before any route or token check: uvicorn kept appending them (65 MiB took 80 MiB)."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    sent, answer = 0, b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        try:
            while sent < 32 * 1024 * KIB:
                sock.sendall(b"a" * (64 * KIB))
                sent += 64 * KIB
        except OSError:  # reset: the server closed the connection
            pass
        with contextlib.suppress(OSError):
            answer = sock.recv(4096)
    assert sent < 4 * 1024 * KIB, f"the server took {sent} bytes of one request head"
    assert answer.startswith(b"HTTP/1.1 400") or not answer, answer[:100]
    assert httpx.get(f"{url}/healthz").status_code == 200


def test_unknown_legacy_form_fields_are_skipped_unread(url: str) -> None:
    """Every field was kept in memory, whatever its name: many large ones added up."""
    key = new_key()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.dcm", b"A")
    msg = {"action": "pushPath", "meta": {"remote": {"key": key}}}
    reply = httpx.post(
        f"{url}/api/v1/cmd",
        headers={"Mode": "file"},
        data={f"extra{i}": "x" * (600 * KIB) for i in range(4)}
        | {"d_msg": json.dumps(msg), "filename": "x.zip"},
        files={"local": ("x.zip", archive.getvalue(), "application/zip")},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    assert sorted(listing(url, key) or {}) == ["input/a.dcm"]


@pytest.mark.parametrize("mtime", ["inf", "nan", "1e300"])
def test_a_pax_mtime_that_is_no_time_neither_fails_the_push_nor_the_pull(
    url: str, mtime: str
) -> None:
    """Infinite and NaN times reached the bundle writer's int(): a 500."""
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("a.txt")
        info.size, info.pax_headers = 1, {"mtime": mtime}
        tar.addfile(info, io.BytesIO(b"x"))
    key = new_key()
    push = httpx.post(
        f"{url}/api/v1/keys/{key}/input?layout=bundle",
        content=buf.getvalue(),
        headers={"Content-Type": "application/x-tar"},
    )
    assert push.status_code == 201, push.text
    pulled = httpx.get(f"{url}/api/v1/keys/{key}/input", timeout=30)
    assert zipfile.ZipFile(io.BytesIO(pulled.content)).read("a.txt") == b"x"


def test_an_echo_nested_near_the_recursion_limit_is_a_400(url: str) -> None:
    echo = "[" * 960 + "]" * 960
    body = '{"action": "hello", "meta": {"askAbout": "echoBack", "echoBack": ' + echo + "}}"
    reply = httpx.post(f"{url}/api/v1/cmd", content=body, headers={"Mode": "control"})
    refused(reply, 400, "bad_message")


def test_requests_whose_head_and_body_arrive_together_pass_the_head_cap(url: str) -> None:
    """The cap counts the head only, on every request of a kept-alive connection."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    key = new_key()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        for i in range(3):
            body = bytes(300 * KIB)
            sock.sendall(
                f"PUT /api/v1/keys/{key}/input/f{i} HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                answer += sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
