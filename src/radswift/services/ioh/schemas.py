"""Response bodies of the REST API (they make the OpenAPI page precise)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from radswift.bundle import Layout


class Area(StrEnum):
    """The two prefixes of a key: what goes in to a job, and what comes out."""

    input = "input"
    output = "output"


class ArchiveFormat(StrEnum):
    zip = "zip"
    tar = "tar"
    tar_gz = "tar.gz"


LayoutName = Layout
"""How an area is stored (radswift.bundle.Layout: one type for it; this name is kept for
code written against it)."""


class AreaLayout(StrEnum):
    """How a listing finds an area stored: as pushed (objects, bundle), or "mixed": a
    bundle with other objects beside it, which pulls refuse (409 mixed_layout) until one
    or the other is deleted; its bundle's counts then say nothing about the area."""

    objects = "objects"
    bundle = "bundle"
    mixed = "mixed"


class ErrorReply(BaseModel):
    error: str = Field(description="a short machine-readable reason")
    detail: str = Field(description="a message fit to show a person")
    request_id: str | None = Field(
        default=None, description="with a 5xx: quote it to the operator (also X-Request-Id)"
    )


class ObjectEntry(BaseModel):
    name: str
    size: int
    etag: str
    last_modified: str | None = None
    content_type: str | None = None
    bundle_files: int | None = Field(
        default=None, description="for an area's bundle: the files it holds"
    )
    bundle_bytes: int | None = Field(
        default=None, description="for an area's bundle: the bytes of those files"
    )


class KeyListing(BaseModel):
    key: str
    prefix: str
    count: int
    bytes: int
    objects: list[ObjectEntry]
    layouts: dict[str, AreaLayout] = Field(
        default_factory=dict,
        description='how each area in the listing is stored, e.g. {"input": "bundle"}',
    )


class PushReply(BaseModel):
    key: str
    area: Area
    files: int
    directories: int
    bytes: int
    layout: LayoutName = LayoutName.objects


class FileReply(BaseModel):
    key: str
    name: str
    size: int
    etag: str


class DeleteReply(BaseModel):
    key: str
    deleted_objects: int


class Health(BaseModel):
    status: str = "ok"
    name: str
    version: str
    store: str = Field(description="swift or local")
