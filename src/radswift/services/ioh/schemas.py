"""Response bodies of the REST API (they make the OpenAPI page precise)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Area(StrEnum):
    """The two prefixes of a key: what goes in to a job, and what comes out."""

    input = "input"
    output = "output"


class ArchiveFormat(StrEnum):
    zip = "zip"
    tar = "tar"
    tar_gz = "tar.gz"


class ErrorReply(BaseModel):
    error: str = Field(description="a short machine-readable reason")
    detail: str = Field(description="a message fit to show a person")


class ObjectEntry(BaseModel):
    name: str
    size: int
    etag: str
    last_modified: str | None = None
    content_type: str | None = None


class KeyListing(BaseModel):
    key: str
    prefix: str
    count: int
    bytes: int
    objects: list[ObjectEntry]


class PushReply(BaseModel):
    key: str
    area: Area
    files: int
    directories: int
    bytes: int


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
