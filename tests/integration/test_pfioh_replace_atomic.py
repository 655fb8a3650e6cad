"""A replacing push is never visible half-done (defect 5 of issue 11).

Readers see the old tree or the new tree, never a mix, while a push with `replace=true`
(what every legacy pushPath does) stores 400 files over 400 others: the new tree goes
under a fresh generation prefix and a small pointer object switches to it last (see
radswift.generation). Checked on the local store and on the real local Swift, through
pfioh's pulls and listings and through the reader jobs use (`fetch_area`: publisher get,
`radswift cp`).
"""

from __future__ import annotations

import io
import socket
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from pfioh_helpers import new_key, serve, tar_bytes, tree_digest

from radswift.bundle.area_transfer import fetch_area
from radswift.services.ioh import IohSettings
from radswift.services.ioh.settings import Tuning
from radswift.store.base import ObjectStore
from radswift.store.local import LocalStore
from radswift.transfer import TransferOptions

FILES = 400
PULLS = {"local": 50, "swift": 20}
"""Pulls made while the replace runs; fewer on Swift, where a pull of 400 objects takes
seconds on a shared two-core machine (the test's time is bounded)."""


def tree(tag: str) -> dict[str, bytes]:
    """400 files: 399 shared names with this tree's content, and one name of its own."""
    files = {f"series/{i:03d}.dcm": f"{tag}-{i}-".encode() * 200 for i in range(FILES - 1)}
    files[f"{tag}-only.txt"] = tag.encode()
    return dict(sorted(files.items()))


def pull(base: str, key: str) -> dict[str, bytes]:
    reply = httpx.get(f"{base}/api/v1/keys/{key}/input", params={"format": "tar"}, timeout=120)
    reply.raise_for_status()
    with tarfile.open(fileobj=io.BytesIO(reply.content)) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        return {m.name: tar.extractfile(m).read() for m in members}  # type: ignore[union-attr]


def push(base: str, key: str, body: bytes | Iterator[bytes], **params: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/keys/{key}/input",
        params=params,
        content=body,
        headers={"Content-Type": "application/x-tar"},
        timeout=300,
    )


def held_until(data: bytes, ready: Callable[[], bool]) -> Iterator[bytes]:
    """The body, its last KiB held back until `ready()` (at most 400 s): the push is
    still running while that many pulls are made, and its final phase overlaps more."""
    yield data[:-1024]
    deadline = time.monotonic() + 400
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield data[-1024:]


def test_pulls_during_a_replacing_push_see_one_whole_tree(
    store: ObjectStore, tmp_path: Path
) -> None:
    wanted = PULLS["local" if isinstance(store, LocalStore) else "swift"]
    old, new = tree("old"), tree("new")
    with serve(store, IohSettings(tuning=Tuning(body_idle_timeout=300))) as base:
        key = new_key()
        push(base, key, tar_bytes(old)).raise_for_status()
        assert pull(base, key) == old
        done = threading.Event()
        outcomes: list[str] = []

        def replace() -> int:
            try:
                body = held_until(tar_bytes(new), lambda: len(outcomes) >= wanted)
                return push(base, key, body, replace="true").status_code
            finally:
                done.set()

        def pulls() -> None:
            while not done.is_set() and len(outcomes) < 4 * wanted:
                got = pull(base, key)
                seen = "old" if got == old else "new" if got == new else "mixed"
                outcomes.append(
                    seen if seen != "mixed" else f"mixed: {sorted(set(got) ^ set(new))[:3]}"
                )

        with ThreadPoolExecutor(5) as pool:
            pushed = pool.submit(replace)
            readers = [pool.submit(pulls) for _ in range(4)]
            assert pushed.result() == 201
            for reader in readers:
                reader.result()
        assert len(outcomes) >= wanted
        assert [o for o in outcomes if o not in ("old", "new")] == []
        assert pull(base, key) == new
        listed = httpx.get(f"{base}/api/v1/keys/{key}", timeout=30).json()
        assert sorted(o["name"] for o in listed["objects"]) == sorted(f"input/{n}" for n in new)
        # the reader of jobs and of `radswift cp` sees the new tree, and only it
        fetch_area(store, key, "input/", tmp_path / "got", options=TransferOptions())
        assert set(tree_digest(tmp_path / "got")) == set(new)


def test_a_replace_leaves_one_generation_and_a_second_replace_removes_it(
    store: ObjectStore,
) -> None:
    with serve(store, IohSettings()) as base:
        key = new_key()
        for n, files in enumerate(({"a": b"1", "b": b"1"}, {"a": b"2", "c": b"2"}, {"d": b"3"})):
            reply = push(base, key, tar_bytes(files), replace="true")
            assert reply.status_code == 201, (n, reply.text)
            assert pull(base, key) == files
        stored = [o.name for o in store.list_objects(key, "input/")]
        generations = {n.split("/")[2] for n in stored if n.startswith("input/.radswift-gen/")}
        assert len(generations) == 1
        assert len(stored) == 2  # the pointer and the one file of the current generation
        one = httpx.get(f"{base}/api/v1/keys/{key}/input/d", timeout=30)
        assert one.content == b"3"
        assert httpx.get(f"{base}/api/v1/keys/{key}/input/a", timeout=30).status_code == 404


def test_a_slow_reader_neither_delays_a_replace_nor_costs_a_later_push_its_objects(
    tmp_path: Path,
) -> None:
    """A pull whose client reads nothing holds the old tree (its deletion waits in the
    background); a delete and a new push of the same names run that deletion first."""
    store = LocalStore(tmp_path / "store")
    big = {f"f{i:02d}": bytes([i]) * (1 << 20) for i in range(32)}  # beyond socket buffers
    try:
        with serve(store, IohSettings()) as base:
            key = new_key()
            push(base, key, tar_bytes(big)).raise_for_status()
            port = int(base.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port)) as slow:
                slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                slow.sendall(
                    f"GET /api/v1/keys/{key}/input?format=tar HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                )
                assert slow.recv(1)  # the pull has begun, and now reads nothing
                assert push(base, key, tar_bytes({"g": b"1"}), replace="true").status_code == 201
                assert "input/f00" in {o.name for o in store.list_objects(key)}  # still held
                assert httpx.delete(f"{base}/api/v1/keys/{key}", timeout=60).status_code == 200
                push(base, key, tar_bytes(big)).raise_for_status()  # the old names again
            time.sleep(1)  # the reader is gone: a deletion still waiting would run now
            assert pull(base, key) == big
    finally:
        store.close()
