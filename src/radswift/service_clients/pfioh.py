"""A Python client of pfioh's REST API that streams both ways.

    client = IohClient("http://127.0.0.1:5055", token="...")
    client.push("job-42", Path("study/"))        # a tar built on the fly from the tree
    client.pull("job-42", Path("results/"))      # a tar unpacked as it arrives

Push never holds the tree (or an archive of it) in memory or on disk; pull writes each
file under a temporary name and renames it into place only when complete (in a few
writer threads, see unpack.py), and refuses any entry that would land outside the
destination (the archive reader validates paths, and no existing symlink in the
destination is followed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from radswift.archive import OutEntry, iter_archive, tar_stream
from radswift.archive.model import CHUNK_BYTES
from radswift.archive.source import ChunkStream
from radswift.bundle import Layout
from radswift.errors import (
    InvalidInput,
    NotFound,
    StorageUnavailable,
    UnsafeArchive,
)
from radswift.names import empty_area_error
from radswift.service_clients.replies import json_reply
from radswift.service_clients.unpack import PullResult, unpack_into
from radswift.transfer.progress import NullProgress, Progress

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class IohClient:
    """pfioh over HTTP. Errors come back as radswift errors carrying the server's reason."""

    def __init__(
        self, base_url: str, *, token: str | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def __repr__(self) -> str:  # never shows the token
        return f"IohClient({str(self._http.base_url)!r})"

    def push(
        self,
        key: str,
        source: Path,
        *,
        area: str = "input",
        replace: bool = False,
        layout: Layout | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Upload the tree under `source` to `key`/`area` as one streamed tar (all or
        nothing; Conflict if a file exists there already, unless `replace`).

        `layout`: "objects" (one Swift object per file), "bundle" (the tree as one tar
        object: much faster for thousands of small files), None: the server's default.
        Pulling needs no such choice: the server unpacks a bundle."""
        progress = progress or NullProgress()
        entries = list(tree_entries(source, progress))
        progress.set_total(sum(1 for e in entries if e.chunks), sum(e.size for e in entries))
        params = {"replace": str(replace).lower()}
        if layout is not None:
            params["layout"] = layout
        with self._reaching("push"):
            response = self._http.post(
                f"/api/v1/keys/{key}/{area}",
                params=params,
                content=tar_stream(entries),
                headers={"Content-Type": "application/x-tar"},
            )
        return _json(response)

    def pull(
        self,
        key: str,
        dest: Path,
        *,
        area: str = "output",
        allow_empty: bool = False,
        progress: Progress | None = None,
    ) -> PullResult:
        """Download `key`/`area` into `dest` (created if needed), streaming.

        NotFound (reason "empty_area") when the area holds nothing, naming the areas the
        key has, unless `allow_empty`: an empty pull that looks like success misleads."""
        progress = progress or NullProgress()
        listing = self.list(key, prefix=f"{area}/")
        if not listing["count"] and not allow_empty:
            names = (o["name"] for o in self.list(key)["objects"])
            hint = "pull one of those (--area NAME), or pass --allow-empty"
            raise empty_area_error(key, f"{area}/", self.url, names, hint)
        progress.set_total(*_totals(listing, area))
        dest.mkdir(parents=True, exist_ok=True)
        with (
            self._reaching("download"),
            self._http.stream(
                "GET", f"/api/v1/keys/{key}/{area}", params={"format": "tar"}
            ) as response,
        ):
            if response.status_code != 200:
                response.read()
                _json(response)
            reader = ChunkStream(response.iter_bytes())
            return unpack_into(dest, iter_archive(reader, "tar"), progress)

    def list(self, key: str, prefix: str = "") -> dict[str, Any]:
        """The key's objects under `prefix` (NotFound saying so if the key does not exist)."""
        with self._reaching("listing"):
            response = self._http.get(f"/api/v1/keys/{key}", params={"prefix": prefix})
        if response.status_code == 404:
            raise NotFound(f"no key {key!r} on {self.url}", reason="no_such_key")
        return _json(response)

    def delete(self, key: str) -> dict[str, Any]:
        with self._reaching("delete"):
            response = self._http.delete(f"/api/v1/keys/{key}")
        if response.status_code == 404:
            raise NotFound(f"no key {key!r} on {self.url}", reason="no_such_key")
        return _json(response)

    @property
    def url(self) -> str:
        """pfioh's base URL, for messages."""
        return str(self._http.base_url).rstrip("/")

    @contextmanager
    def _reaching(self, what: str) -> Iterator[None]:
        """httpx's transport errors as StorageUnavailable naming the URL (every request)."""
        try:
            yield
        except httpx.TransportError as exc:
            raise StorageUnavailable(f"cannot reach pfioh at {self.url} ({what}): {exc}") from None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def tree_entries(source: Path, progress: Progress) -> Iterator[OutEntry]:
    """Files and empty directories under `source`, in a stable order; links are refused."""
    if not source.is_dir():
        raise InvalidInput(f"{source} is not a directory")
    for root, dirs, files in os.walk(source):
        dirs.sort()
        base = Path(root)
        rel_root = base.relative_to(source).as_posix()
        prefix = "" if rel_root == "." else rel_root + "/"
        for name in sorted(files):
            path = base / name
            if path.is_symlink():
                raise UnsafeArchive(f"{path} is a symbolic link; radswift pushes files only")
            stat = path.stat()
            yield OutEntry(
                path=prefix + name,
                size=stat.st_size,
                mtime=stat.st_mtime,
                chunks=_file_chunks(path, progress),
            )
        if not dirs and not files and prefix:
            yield OutEntry(
                path=prefix.rstrip("/"), size=0, mtime=base.stat().st_mtime, chunks=None, mode=0o755
            )


def _file_chunks(path: Path, progress: Progress) -> Any:
    def chunks() -> Iterator[bytes]:
        with path.open("rb") as handle:
            while data := handle.read(CHUNK_BYTES):
                progress.advance(len(data))
                yield data
        progress.file_done(path.name, True)

    return chunks


def _totals(listing: dict[str, Any], area: str) -> tuple[int, int]:
    """Files and bytes a pull will bring: a bundle's own counts when the area is one
    (not when it is "mixed": a bundle with other objects beside it, whose counts would
    leave those out; the pull is refused then anyway, 409 mixed_layout)."""
    if listing.get("layouts", {}).get(area) == "bundle":
        for obj in listing["objects"]:
            if obj.get("bundle_files") is not None:
                return int(obj["bundle_files"]), int(obj["bundle_bytes"])
    return int(listing["count"]), int(listing["bytes"])


def _json(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a success, or the server's error as a radswift error."""
    return json_reply(response, "pfioh")
