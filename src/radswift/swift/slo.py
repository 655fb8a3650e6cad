"""Static large objects: manifest JSON both ways, the SLO ETag, bulk-delete results."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from radswift.errors import Conflict, NotFound, StorageError
from radswift.objectinfo import SegmentRef

Segment = SegmentRef
"""One segment as the manifest names it (the store contract's SegmentRef)."""


def encode_manifest(segments: Sequence[Segment]) -> bytes:
    """The body of `PUT ?multipart-manifest=put`: path/etag/size_bytes in order."""
    return json.dumps(
        [
            {"path": f"/{s.container}/{s.name}", "etag": s.etag, "size_bytes": s.size}
            for s in segments
        ]
    ).encode("utf-8")


def manifest_etag(segments: Sequence[Segment]) -> str:
    """Swift's ETag of an SLO: the MD5 of its segments' hex ETags concatenated."""
    md5 = hashlib.md5(usedforsecurity=False)
    for segment in segments:
        md5.update(segment.etag.encode("ascii"))
    return md5.hexdigest()


def decode_manifest(data: bytes) -> list[Segment]:
    """Segments from `GET ?multipart-manifest=get` (Swift's stored manifest format).

    Nested manifests and ranged segments are not written by radswift; they raise
    StorageError rather than being verified wrongly."""
    try:
        entries = json.loads(data)
    except ValueError:
        raise StorageError("the large-object manifest is not JSON") from None
    if not isinstance(entries, list):
        raise StorageError("the large-object manifest is not a JSON list")
    return [_segment(entry) for entry in entries]


def _segment(entry: Any) -> Segment:
    if not isinstance(entry, dict) or entry.get("sub_slo") or "range" in entry:
        raise StorageError("nested or ranged large-object manifests are not supported")
    container, _, name = str(entry["name"]).lstrip("/").partition("/")
    return Segment(container=container, name=name, etag=entry["hash"], size=int(entry["bytes"]))


def check_bulk_delete(data: bytes, what: str) -> None:
    """Raise if the JSON result of `DELETE ?multipart-manifest=delete` reports failures.

    Swift answers 200 with a result body even when segments could not be deleted."""
    if not data:
        return
    try:
        result = json.loads(data)
    except ValueError:
        return  # a plain object's delete: no bulk result
    if not isinstance(result, dict):
        return
    status = str(result.get("Response Status", "200"))
    if (
        status.startswith("2")
        and not result.get("Number Deleted")
        and result.get("Number Not Found")
    ):
        raise NotFound(f"{what}: HTTP 404")
    if status.startswith("2"):
        if result.get("Errors"):
            raise StorageError(f"{what}: some segments could not be deleted: {result['Errors']}")
        return
    if status.startswith("404"):
        raise NotFound(f"{what}: HTTP 404")
    if status.startswith("409"):
        raise Conflict(f"{what}: HTTP 409")
    raise StorageError(f"{what}: {status} {result.get('Errors') or ''}".rstrip())
