"""How `radswift job run` moves a study into a key's input/ and results out of output/.

Two carriers with one small interface: through pfioh (IohClient: a tar streamed each
way; pfioh checks every object's MD5 as it reads it) or straight to the store (radswift's
transfer engine: every object MD5-verified as it is written and read). Both count what
they moved, so a run can compare what arrived with what the job published.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from radswift.bundle import Layout
from radswift.names import INPUT_PREFIX, OUTPUT_PREFIX
from radswift.service_clients.pfioh import IohClient
from radswift.store.base import ObjectStore
from radswift.transfer import TransferOptions
from radswift.transfer.progress import Progress


@dataclass(frozen=True, kw_only=True)
class Moved:
    """Files and bytes one transfer moved, and how long it took."""

    files: int
    bytes: int
    seconds: float


class Carrier(Protocol):
    """Pushes a tree into a key's input/ and pulls its output/."""

    @property
    def where(self) -> str:
        """What the data goes through, for people ("pfioh at URL", "the store")."""
        ...

    def push(self, key: str, source: Path, layout: Layout, progress: Progress) -> Moved: ...

    def pull(self, key: str, dest: Path, progress: Progress) -> Moved: ...


class IohCarrier:
    """Through pfioh's REST API."""

    def __init__(self, client: IohClient) -> None:
        self.client = client

    @property
    def where(self) -> str:
        return f"pfioh at {self.client.url}"

    def push(self, key: str, source: Path, layout: Layout, progress: Progress) -> Moved:
        started = time.monotonic()
        self.client.push(key, source, layout=layout, progress=progress)
        files, nbytes = tree_size(source)
        return Moved(files=files, bytes=nbytes, seconds=time.monotonic() - started)

    def pull(self, key: str, dest: Path, progress: Progress) -> Moved:
        started = time.monotonic()
        result = self.client.pull(key, dest, allow_empty=True, progress=progress)
        return Moved(files=result.files, bytes=result.bytes, seconds=time.monotonic() - started)


class StoreCarrier:
    """Straight to the object store (Swift, or a local store)."""

    def __init__(self, store: ObjectStore, description: str) -> None:
        self.store = store
        self.description = description

    @property
    def where(self) -> str:
        return self.description

    def push(self, key: str, source: Path, layout: Layout, progress: Progress) -> Moved:
        from radswift.bundle.area_transfer import check_one_layout, upload_bundle
        from radswift.transfer import upload_tree

        self.store.ensure_container(key)
        check_one_layout(self.store, key, INPUT_PREFIX, layout)
        if layout == "bundle":
            result = upload_bundle(self.store, source, key, INPUT_PREFIX, TransferOptions())
        else:
            result = upload_tree(
                self.store, source, key, INPUT_PREFIX, options=TransferOptions(), progress=progress
            )
        result.raise_for_failures()
        return Moved(files=result.files, bytes=result.bytes, seconds=result.seconds)

    def pull(self, key: str, dest: Path, progress: Progress) -> Moved:
        from radswift.bundle.area_transfer import fetch_area

        dest.mkdir(parents=True, exist_ok=True)
        result, _ = fetch_area(
            self.store, key, OUTPUT_PREFIX, dest, options=TransferOptions(), progress=progress
        )
        result.raise_for_failures()
        return Moved(files=result.files, bytes=result.bytes, seconds=result.seconds)


def tree_size(root: Path) -> tuple[int, int]:
    """Files and bytes under `root` (links are not followed)."""
    files = nbytes = 0
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            files += 1
            nbytes += path.stat().st_size
    return files, nbytes
