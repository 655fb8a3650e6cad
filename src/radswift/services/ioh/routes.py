"""The REST API under /api/v1/: keys, their areas as archives, and single files."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from radswift.archive import iter_archive
from radswift.archive.source import Format
from radswift.bundle import area_state, is_bundle_object
from radswift.errors import InvalidInput
from radswift.names import validate_key, validate_object_name
from radswift.services.ioh.bodypipe import BodyPipe
from radswift.services.ioh.context import IohContext, context_of
from radswift.services.ioh.core import delete_key, list_key, push_entries
from radswift.services.ioh.core.pull import AreaArchive, open_area
from radswift.services.ioh.core.pull_bundle import bundle_counts
from radswift.services.ioh.core.push_bundle import push_bundle
from radswift.services.ioh.files import get_file, put_file
from radswift.services.ioh.multipart import MultipartReader, boundary_of, form_entries
from radswift.services.ioh.schemas import (
    ArchiveFormat,
    Area,
    AreaLayout,
    DeleteReply,
    ErrorReply,
    FileReply,
    KeyListing,
    LayoutName,
    ObjectEntry,
    PushReply,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorReply} for code in (400, 401, 404, 408, 409, 413, 422, 429, 503)
}
router = APIRouter(prefix="/api/v1", responses=ERRORS)

ARCHIVE_TYPES: dict[str, Format] = {
    "application/x-tar": "tar",
    "application/tar": "tar",
    "application/gzip": "tar.gz",
    "application/x-gzip": "tar.gz",
    "application/x-gtar": "tar.gz",
    "application/x-compressed-tar": "tar.gz",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
}
MEDIA_TYPES = {"zip": "application/zip", "tar": "application/x-tar", "tar.gz": "application/gzip"}


@router.get("/keys/{key}", response_model=KeyListing, summary="List a key's objects")
async def list_objects(request: Request, key: str, prefix: str = "") -> KeyListing:
    ctx = context_of(request)
    return await ctx.blocking(_listing, ctx, key, prefix)


def _listing(ctx: IohContext, key: str, prefix: str) -> KeyListing:
    """The objects, and how each area among them is stored (a bundle's counts come from
    its metadata: one HEAD per bundle): "mixed" for a bundle with other objects beside
    it (left by another client, or by a replacing push that could not delete them)."""
    bundles: set[str] = set()
    others: set[str] = set()
    objects = []
    for o in list_key(ctx.store, key, prefix, ctx.resources.claims):
        entry = ObjectEntry(
            name=o.name,
            size=o.size,
            etag=o.etag,
            last_modified=o.last_modified,
            content_type=o.content_type,
        )
        area = o.name.split("/", 1)[0]
        if area in Area.__members__ and is_bundle_object(o.name, f"{area}/"):
            bundles.add(area)
            counts = bundle_counts(ctx.store, key, o.name)
            if counts is not None:
                entry.bundle_files, entry.bundle_bytes = counts
        elif area in Area.__members__:
            others.add(area)
        objects.append(entry)
    names = [o.name for o in objects]
    layouts = {area: AreaLayout(area_state(names, f"{area}/").value) for area in bundles | others}
    return KeyListing(
        key=key,
        prefix=prefix,
        count=len(objects),
        bytes=sum(o.size for o in objects),
        objects=objects,
        layouts=dict(sorted(layouts.items())),
    )


@router.delete("/keys/{key}", response_model=DeleteReply, summary="Delete a key entirely")
async def remove_key(request: Request, key: str) -> DeleteReply:
    ctx = context_of(request)
    count = await ctx.blocking(
        partial(delete_key, pending=ctx.resources.pending),
        ctx.store,
        key,
        ctx.resources.claims,
        ctx.resources.put_pool,
    )
    return DeleteReply(key=key, deleted_objects=count)


@router.post(
    "/keys/{key}/{area}",
    response_model=PushReply,
    status_code=201,
    summary="Upload a tree as a streamed archive (tar, tar.gz, zip) or multipart files",
)
async def push_tree(
    request: Request,
    key: str,
    area: Area,
    format: Annotated[ArchiveFormat | None, Query(description="overrides Content-Type")] = None,
    replace: Annotated[
        bool,
        Query(
            description="make the area exactly the uploaded tree (old files overwritten or removed)"
        ),
    ] = False,
    layout: Annotated[
        LayoutName | None,
        Query(
            description="objects: one object per file; bundle: the whole tree as one tar object "
            "(much faster for many small files); default: the server's --layout"
        ),
    ] = None,
) -> PushReply:
    """All or nothing: a refused, failed or interrupted upload leaves the key as it was,
    and readers see none of it until it is complete. A name that already exists in the
    area is a 409, unless `replace`; so is a push in one layout into an area stored in
    the other, or a bundle push into an area that holds anything."""
    ctx = context_of(request)
    validate_key(key)
    content_type = request.headers.get("content-type", "")
    chosen = layout or LayoutName(ctx.settings.layout)
    work = _push_work(ctx, key, area, content_type, format, replace, chosen)
    ctx.metrics.in_flight.labels("push").inc()
    try:
        result = await ctx.with_body(request, work, key=key)
    except BaseException:
        ctx.metrics.pushes.labels("failed").inc()
        raise
    finally:
        ctx.metrics.in_flight.labels("push").dec()
    ctx.metrics.pushes.labels("ok").inc()
    ctx.metrics.objects_in.inc(result.files + result.directories)
    return PushReply(
        key=key,
        area=area,
        files=result.files,
        directories=result.directories,
        bytes=result.bytes,
        layout=chosen,
    )


def _push_work(
    ctx: IohContext,
    key: str,
    area: Area,
    content_type: str,
    fmt: ArchiveFormat | None,
    replace: bool,
    layout: LayoutName,
) -> Any:
    limits = ctx.settings.limits
    multipart = content_type.lower().startswith("multipart/form-data") and fmt is None
    archive_fmt: Format = "auto"
    if not multipart:
        archive_fmt = fmt.value if fmt else _format_of(content_type)
    boundary = boundary_of(content_type) if multipart else ""

    def work(pipe: BodyPipe) -> Any:
        entries = (
            form_entries(MultipartReader(pipe.read, boundary))
            if multipart
            else iter_archive(pipe, archive_fmt, limits)
        )
        push = push_bundle if layout == LayoutName.bundle else push_entries
        return push(
            ctx.store,
            key,
            f"{area.value}/",
            entries,
            resources=ctx.resources,
            limits=limits,
            replace=replace,
            on_bytes=ctx.metrics.bytes_in.inc,
        )

    return work


def _format_of(content_type: str) -> Format:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ARCHIVE_TYPES:
        return ARCHIVE_TYPES[media]
    if media in ("", "application/octet-stream"):
        return "auto"
    raise InvalidInput(
        f"cannot upload a body of type {media!r}: send a tar, tar.gz or zip "
        "archive, multipart/form-data, or say ?format=",
        reason="bad_media_type",
    )


@router.get(
    "/keys/{key}/{area}",
    summary="Download an area as a streamed archive",
    response_class=StreamingResponse,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
)
async def pull_tree(
    request: Request,
    key: str,
    area: Area,
    format: ArchiveFormat = ArchiveFormat.zip,
    compress: Annotated[bool, Query(description="deflate zip entries")] = False,
) -> StreamingResponse:
    """Built on the fly: ZIP64, entries stored (not deflated) unless `compress`."""
    ctx = context_of(request)
    archive = await ctx.blocking(_open_archive, ctx, key, area, format, compress)
    filename = f"{key}-{area.value}.{format.value if format != ArchiveFormat.tar_gz else 'tgz'}"
    headers = {"Content-Disposition": attachment(filename)}
    if archive.size is not None:  # not chunked: uvicorn then sends each piece uncopied
        headers["Content-Length"] = str(archive.size)
    return StreamingResponse(
        _counted(ctx, archive.chunks), media_type=MEDIA_TYPES[format.value], headers=headers
    )


def attachment(filename: str) -> str:
    """Content-Disposition per RFC 6266: a quoted fallback of safe ASCII only (anything
    else becomes '_'), and the exact name per RFC 5987 (`filename*`, percent-encoded
    UTF-8). Keys are already of a safe alphabet (radswift.names); this holds regardless."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\%;' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _open_archive(
    ctx: IohContext, key: str, area: Area, fmt: ArchiveFormat, compress: bool
) -> AreaArchive:
    return open_area(
        ctx.store,
        key,
        f"{area.value}/",
        fmt=fmt.value,
        compress=compress,
        resources=ctx.resources,
        limits=ctx.settings.limits,
        on_bytes=ctx.metrics.bytes_out.inc,
    )


def _counted(ctx: IohContext, chunks: Iterator[bytes]) -> Iterator[bytes]:
    ctx.metrics.in_flight.labels("pull").inc()
    try:
        yield from chunks
    finally:
        ctx.metrics.in_flight.labels("pull").dec()
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


@router.put(
    "/keys/{key}/{area}/{path:path}",
    response_model=FileReply,
    status_code=201,
    summary="Upload one file (replaces it if it exists)",
)
async def put_one(request: Request, key: str, area: Area, path: str) -> FileReply:
    ctx = context_of(request)
    name = validate_object_name(f"{area.value}/{_safe_path(path)}")
    declared = _content_length(request)
    info = await ctx.with_body(
        request, lambda pipe: put_file(ctx, key, name, pipe, declared), key=key
    )
    return FileReply(key=key, name=info.name, size=info.size, etag=info.etag)


@router.get(
    "/keys/{key}/{area}/{path:path}",
    summary="Download one file (HTTP Range works)",
    response_class=StreamingResponse,
)
async def get_one(request: Request, key: str, area: Area, path: str) -> Response:
    ctx = context_of(request)
    name = validate_object_name(f"{area.value}/{_safe_path(path)}")
    return await get_file(ctx, key, name, request.headers.get("range"))


@router.head("/keys/{key}/{area}/{path:path}", include_in_schema=False)
async def head_one(request: Request, key: str, area: Area, path: str) -> Response:
    ctx = context_of(request)
    name = validate_object_name(f"{area.value}/{_safe_path(path)}")
    return await get_file(ctx, key, name, None, head=True)


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() and len(value) <= 20 else None


def _safe_path(path: str) -> str:
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise InvalidInput(f"the path {path!r} is not a relative file path", reason="bad_path")
    return "/".join(parts)
