"""What Swift says about an object, and the headers that say it back.

Swift describes an object in response headers (HEAD, GET, PUT) and in JSON listing
entries; radswift describes it as an `ObjectInfo` (radswift.objectinfo). Both directions
live here, so nothing above radswift.swift knows a Swift header name: `object_headers`
builds a PUT's headers from a content type and user metadata, `object_from_headers` and
`object_from_listing` parse them back, and `content_range_start`/`content_range_total`
read a ranged GET's `Content-Range`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from radswift.objectinfo import ObjectInfo

META_PREFIX = "x-object-meta-"

Headers = Mapping[str, str]


def object_headers(content_type: str | None, metadata: Mapping[str, str] | None) -> Headers:
    """Request headers for an object's content type and user metadata.

    Header values travel as latin-1 on the wire: UTF-8 bytes are passed through that
    way, which is how Swift stores and returns them."""
    headers: dict[str, str] = {}
    if content_type:
        headers["Content-Type"] = content_type
    for key, value in (metadata or {}).items():
        headers[f"X-Object-Meta-{key}"] = value.encode("utf-8").decode("latin-1")
    return headers


def object_from_headers(name: str, headers: Headers) -> ObjectInfo:
    """The object from HEAD/GET headers (a ranged GET's size comes from Content-Range)."""
    size = content_range_total(headers.get("Content-Range"))
    if size is None:
        size = int(headers.get("Content-Length", "0"))
    metadata = {
        key[len(META_PREFIX) :].lower(): _utf8(value)
        for key, value in headers.items()
        if key.lower().startswith(META_PREFIX)
    }
    return ObjectInfo(
        name=name,
        size=size,
        etag=etag_of(headers),
        last_modified=_iso_from_timestamp(headers.get("X-Timestamp")) or last_modified_of(headers),
        content_type=headers.get("Content-Type"),
        large=headers.get("X-Static-Large-Object", "").lower() == "true",
        metadata=metadata,
    )


def object_from_listing(entry: Mapping[str, Any]) -> ObjectInfo:
    """The object from one JSON listing entry; an SLO's ETag is its `slo_etag`."""
    slo_etag = entry.get("slo_etag")
    return ObjectInfo(
        name=str(entry["name"]),
        size=int(entry.get("bytes", 0)),
        etag=str(slo_etag or entry.get("hash", "")).strip('"'),
        last_modified=entry.get("last_modified"),
        content_type=entry.get("content_type"),
        large=slo_etag is not None,
    )


def etag_of(headers: Headers) -> str:
    """The response's ETag, unquoted ("" if none)."""
    return headers.get("Etag", "").strip('"')


def last_modified_of(headers: Headers) -> str | None:
    """Last-Modified (an HTTP date) in the listing's format, to the second."""
    return _iso(headers.get("Last-Modified"))


def content_range_start(value: str | None) -> int | None:
    """The first byte of `Content-Range: bytes START-END/TOTAL`, or None."""
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[len("bytes ") :].split("-", 1)[0])
    except ValueError:
        return None


def content_range_total(value: str | None) -> int | None:
    """The TOTAL of `Content-Range: bytes START-END/TOTAL`, or None."""
    if not value or "/" not in value:
        return None
    try:
        return int(value.rsplit("/", 1)[1])
    except ValueError:
        return None


def _utf8(value: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _iso_from_timestamp(value: str | None) -> str | None:
    """Swift's X-Timestamp as the listing's `2026-11-25T02:37:53.340180` (UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _iso(value: str | None) -> str | None:
    if not value:
        return None
    try:
        moment = datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT")
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
