"""pfioh's REST API, every route, against the local store and the real local Swift."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from pfioh_helpers import listing, new_key, serve, tar_bytes, zip_bytes

from radswift.names import segments_container
from radswift.services.ioh import IohSettings, Tuning
from radswift.services.ioh.settings import DEFAULT_TRANSFER
from radswift.store.base import ObjectStore

FILES = {
    "series1/img001.dcm": b"\x00DICM" + bytes(range(256)) * 40,
    "series1/img002.dcm": b"\x01DICM" * 3000,
    "notes.txt": b"hello radiology\n",
}


@pytest.fixture
def url(store: ObjectStore) -> Iterator[str]:
    # a tiny segment size so that the large-object path is exercised by small files
    with serve(
        store,
        IohSettings(tuning=Tuning(transfer=replace(DEFAULT_TRANSFER, segment_size=64 * 1024))),
    ) as base:
        yield base


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def push(url: str, key: str, body: bytes, content_type: str, **params: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        content=body,
        params=params,
        headers={"Content-Type": content_type},
        timeout=60,
    )


def test_healthz_and_openapi(url: str) -> None:
    health = httpx.get(f"{url}/healthz").json()
    assert health["status"] == "ok" and health["name"] == "pfioh"
    paths = httpx.get(f"{url}/openapi.json").json()["paths"]
    assert "/api/v1/keys/{key}/{area}" in paths and "/api/v1/cmd" in paths
    assert "swagger" in httpx.get(f"{url}/docs").text.lower()


@pytest.mark.parametrize(
    ("content_type", "build"),
    [
        ("application/x-tar", lambda: tar_bytes(FILES)),
        ("application/gzip", lambda: tar_bytes(FILES, gz=True)),
        ("application/zip", lambda: zip_bytes(FILES)),
    ],
)
def test_push_an_archive_stores_one_object_per_file(
    url: str, content_type: str, build: object
) -> None:
    key = new_key()
    reply = push(url, key, build(), content_type)  # type: ignore[operator]
    assert reply.status_code == 201, reply.text
    assert reply.json()["files"] == 3
    assert listing(url, key) == {f"input/{name}": md5(data) for name, data in FILES.items()}


def test_format_query_overrides_content_type(url: str) -> None:
    key = new_key()
    reply = push(url, key, zip_bytes(FILES), "application/octet-stream", format="zip")
    assert reply.status_code == 201


def test_push_multipart_files(url: str) -> None:
    key = new_key()
    files = [("file", (name, data)) for name, data in FILES.items()]
    reply = httpx.post(f"{url}/api/v1/keys/{key}/input", files=files, timeout=60)
    assert reply.status_code == 201, reply.text
    assert listing(url, key) == {f"input/{name}": md5(data) for name, data in FILES.items()}


def test_an_empty_directory_becomes_a_marker_and_comes_back(url: str) -> None:
    key = new_key()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("empty", "full"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        info = tarfile.TarInfo("full/a.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"a"))
    assert push(url, key, buf.getvalue(), "application/x-tar").status_code == 201
    assert sorted(listing(url, key) or {}) == ["input/empty/", "input/full/a.txt"]
    back = httpx.get(f"{url}/api/v1/keys/{key}/input", params={"format": "tar"})
    with tarfile.open(fileobj=io.BytesIO(back.content)) as tar:
        kinds = {m.name: m.isdir() for m in tar.getmembers()}
    assert kinds == {"empty": True, "full/a.txt": False}


@pytest.mark.parametrize("fmt", ["zip", "tar", "tar.gz"])
def test_pull_streams_the_area_as_an_archive(url: str, fmt: str) -> None:
    key = new_key()
    push(url, key, tar_bytes(FILES), "application/x-tar").raise_for_status()
    response = httpx.get(f"{url}/api/v1/keys/{key}/input", params={"format": fmt}, timeout=60)
    assert response.status_code == 200
    if fmt == "zip":
        assert response.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
            got = {i.filename: zf.read(i) for i in zf.infolist()}
            # stored as is (deflate level 0: stored blocks), never squeezed
            assert all(i.compress_size >= i.file_size for i in zf.infolist())
    else:
        with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
            got = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert got == FILES


def test_pull_compressed_zip_on_request(url: str) -> None:
    key = new_key()
    push(url, key, tar_bytes(FILES), "application/x-tar").raise_for_status()
    response = httpx.get(f"{url}/api/v1/keys/{key}/input", params={"compress": "true"})
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert {zf.read(n) for n in zf.namelist()} == set(FILES.values())
        assert any(i.compress_size < i.file_size // 2 for i in zf.infolist())


def test_a_file_larger_than_a_segment_goes_through_whole(url: str, store: ObjectStore) -> None:
    key = new_key()
    big = bytes(range(256)) * 1000  # 256 000 bytes: four 64 KiB segments
    push(url, key, tar_bytes({"big.nii": big}), "application/x-tar").raise_for_status()
    assert store.head_object(key, "input/big.nii").large
    got = httpx.get(f"{url}/api/v1/keys/{key}/input/big.nii").content
    assert got == big
    httpx.delete(f"{url}/api/v1/keys/{key}").raise_for_status()
    assert not store.container_exists(segments_container(key))


def test_single_file_put_get_head_and_ranges(url: str) -> None:
    key = new_key()
    data = bytes(range(256)) * 4
    put = httpx.put(f"{url}/api/v1/keys/{key}/output/dir/x.bin", content=data)
    assert put.status_code == 201 and put.json()["etag"] == md5(data)
    whole = httpx.get(f"{url}/api/v1/keys/{key}/output/dir/x.bin")
    assert whole.content == data and whole.headers["etag"] == f'"{md5(data)}"'
    part = httpx.get(f"{url}/api/v1/keys/{key}/output/dir/x.bin", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    tail = httpx.get(f"{url}/api/v1/keys/{key}/output/dir/x.bin", headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == data[-5:]
    beyond = httpx.get(
        f"{url}/api/v1/keys/{key}/output/dir/x.bin", headers={"Range": f"bytes={len(data)}-"}
    )
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(data)}"
    head = httpx.head(f"{url}/api/v1/keys/{key}/output/dir/x.bin")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))


def test_list_shows_sizes_and_etags_and_filters_by_prefix(url: str) -> None:
    key = new_key()
    push(url, key, tar_bytes(FILES), "application/x-tar").raise_for_status()
    httpx.put(f"{url}/api/v1/keys/{key}/output/r.txt", content=b"r").raise_for_status()
    body = httpx.get(f"{url}/api/v1/keys/{key}", params={"prefix": "output/"}).json()
    assert body["count"] == 1 and body["bytes"] == 1
    assert body["objects"][0] == {
        **body["objects"][0],
        "name": "output/r.txt",
        "size": 1,
        "etag": md5(b"r"),
    }


def test_delete_removes_every_object_and_the_container(url: str, store: ObjectStore) -> None:
    key = new_key()
    push(url, key, tar_bytes(FILES), "application/x-tar").raise_for_status()
    reply = httpx.delete(f"{url}/api/v1/keys/{key}")
    assert reply.status_code == 200 and reply.json()["deleted_objects"] == 3
    assert not store.container_exists(key)
    assert httpx.delete(f"{url}/api/v1/keys/{key}").status_code == 404


def test_errors_are_json_with_the_right_status(url: str) -> None:
    key = new_key()
    missing = httpx.get(f"{url}/api/v1/keys/{key}")
    assert missing.status_code == 404 and set(missing.json()) == {"error", "detail"}
    assert httpx.get(f"{url}/api/v1/keys/{key}/input").status_code == 404
    assert httpx.get(f"{url}/api/v1/keys/{key}/input/nope").status_code == 404
    bad_area = httpx.get(f"{url}/api/v1/keys/{key}/elsewhere")
    assert bad_area.status_code == 422 and bad_area.json()["error"] == "invalid_request"
    bad_type = push(url, key, b"hello", "text/plain")
    assert bad_type.status_code == 400 and bad_type.json()["error"] == "bad_media_type"
    bad_key = httpx.get(f"{url}/api/v1/keys/x_segments")
    assert bad_key.status_code == 400 and bad_key.json()["error"] == "InvalidName"


def test_a_push_never_overwrites_unless_replace(url: str) -> None:
    key = new_key()
    push(url, key, tar_bytes(FILES), "application/x-tar").raise_for_status()
    again = push(url, key, tar_bytes({"notes.txt": b"changed"}), "application/x-tar")
    assert again.status_code == 409 and again.json()["error"] == "exists"
    assert listing(url, key) == {f"input/{n}": md5(d) for n, d in FILES.items()}
    replaced = push(
        url, key, tar_bytes({"notes.txt": b"changed"}), "application/x-tar", replace="true"
    )
    assert replaced.status_code == 201
    assert listing(url, key) == {"input/notes.txt": md5(b"changed")}


def test_metrics_count_requests_and_bytes(url: str) -> None:
    key = new_key()
    push(url, key, tar_bytes(FILES), "application/x-tar").raise_for_status()
    text = httpx.get(f"{url}/metrics").text
    assert 'pfioh_pushes_total{outcome="ok"} 1.0' in text
    total = sum(len(d) for d in FILES.values())
    assert f"pfioh_push_bytes_total {float(total)}" in text
