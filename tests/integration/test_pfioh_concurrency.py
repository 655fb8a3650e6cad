"""20 pushes and pulls at once, to different keys and to the same key, never corrupt
one another (the original used fixed temp file names and did)."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from pfioh_helpers import BACKENDS, listing, new_key, open_backend, serve, tar_bytes

from radswift.store.base import ObjectStore


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    store: ObjectStore = open_backend(request.param, request, tmp_path)
    try:
        with serve(store) as base:
            yield base
    finally:
        store.close()


def tree(tag: str, count: int = 8) -> dict[str, bytes]:
    return {f"{tag}/{i:02d}.dcm": tag.encode() + os.urandom(20_000 + i) for i in range(count)}


def push(url: str, key: str, files: dict[str, bytes]) -> int:
    reply = httpx.post(
        f"{url}/api/v1/keys/{key}/input",
        content=tar_bytes(files),
        headers={"Content-Type": "application/x-tar"},
        timeout=120,
    )
    return reply.status_code


def pull(url: str, key: str) -> dict[str, bytes]:
    reply = httpx.get(f"{url}/api/v1/keys/{key}/input", params={"format": "tar"}, timeout=120)
    reply.raise_for_status()
    with tarfile.open(fileobj=io.BytesIO(reply.content)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def test_twenty_pushes_and_pulls_at_once(url: str) -> None:
    stable = {new_key(): tree(f"s{i}") for i in range(10)}
    with ThreadPoolExecutor(10) as pool:
        assert set(pool.map(lambda kv: push(url, *kv), stable.items())) == {201}

    fresh_keys = [new_key() for _ in range(5)]
    # two pushes per fresh key (different names) and ten pulls, all at once
    pushes = [(key, tree(f"{key}-{half}")) for key in fresh_keys for half in ("a", "b")]
    with ThreadPoolExecutor(20) as pool:
        push_jobs = [pool.submit(push, url, key, files) for key, files in pushes]
        pull_jobs = {key: pool.submit(pull, url, key) for key in stable}
        assert [job.result() for job in push_jobs] == [201] * 10
        for key, job in pull_jobs.items():
            assert job.result() == stable[key]
    for key in fresh_keys:
        expected: dict[str, bytes] = {}
        for pushed_key, files in pushes:
            if pushed_key == key:
                expected.update(files)
        assert pull(url, key) == expected


def test_racing_pushes_of_the_same_names_leave_one_whole_version(url: str) -> None:
    key = new_key()
    versions = [{f"x/{i}.dcm": bytes([v]) * 30_000 for i in range(10)} for v in range(4)]
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda files: push(url, key, files), versions))
    assert sorted(statuses) == [201, 409, 409, 409]
    stored = listing(url, key) or {}
    winners = [
        v
        for v in versions
        if stored == {f"input/{n}": hashlib.md5(d).hexdigest() for n, d in v.items()}
    ]
    assert len(winners) == 1, "the key mixes the files of several pushes"
