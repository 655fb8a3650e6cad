"""Single files by path: PUT one object, GET/HEAD one object with HTTP Range."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.responses import JSONResponse, Response, StreamingResponse

from radswift.errors import NotFound
from radswift.names import validate_key
from radswift.services.ioh.bodypipe import BodyPipe
from radswift.services.ioh.context import IohContext
from radswift.services.ioh.core.spool import spool
from radswift.services.ioh.http_errors import error_body
from radswift.services.ioh.ranges import RangeNotSatisfiable, parse_range
from radswift.store.base import ObjectInfo, ObjectReader

READ_CHUNK = 256 * 1024


def put_file(ctx: IohContext, key: str, name: str, pipe: BodyPipe) -> ObjectInfo:
    """Store the body as `name` (creating the key if needed); readers see it only once whole."""
    validate_key(key)
    claims = ctx.resources.claims
    ticket = claims.begin(key)
    try:
        claims.claim(ticket, name)
        body = spool(iter(lambda: pipe.read(READ_CHUNK), b""), size_hint=None, small=0,
                     budget=ctx.resources.budget, account=_no_limit)
        try:
            ctx.store.ensure_container(key)
            info = ctx.store.put_object(key, name, body.body, body.size)
        finally:
            body.close()
        ctx.metrics.bytes_in.inc(body.size)
        return info
    finally:
        claims.end(ticket)


def _no_limit(_: int) -> None:
    """A single file is bounded by the store's object size limit, not the archive caps."""


async def get_file(ctx: IohContext, key: str, name: str, range_header: str | None,
                   *, head: bool = False) -> Response:
    """The object, or the requested byte range of it (206), or 416 with the object's size."""
    validate_key(key)
    if name in ctx.resources.claims.hidden(key):
        raise NotFound(f"{name!r} is not in the key {key!r} (a push is still writing it)")
    info = await ctx.blocking(ctx.store.head_object, key, name)
    headers = {"ETag": f'"{info.etag}"', "Accept-Ranges": "bytes",
               "Content-Type": info.content_type or "application/octet-stream"}
    try:
        wanted = parse_range(range_header, info.size)
    except RangeNotSatisfiable as err:
        return JSONResponse(error_body(err.reason, err.message), status_code=416,
                            headers={"Content-Range": f"bytes */{info.size}"})
    if head:
        headers["Content-Length"] = str(info.size)
        return Response(status_code=200, headers=headers)
    if wanted is None:
        headers["Content-Length"] = str(info.size)
        reader = await ctx.blocking(_open, ctx, key, name, 0)
        return StreamingResponse(_stream(ctx, reader, info.size), headers=headers)
    headers["Content-Range"] = wanted.content_range(info.size)
    headers["Content-Length"] = str(wanted.length)
    reader = await ctx.blocking(_open, ctx, key, name, wanted.start)
    return StreamingResponse(_stream(ctx, reader, wanted.length), status_code=206,
                             headers=headers)


def _open(ctx: IohContext, key: str, name: str, offset: int) -> ObjectReader:
    return ctx.store.open_object(key, name, offset=offset)


def _stream(ctx: IohContext, reader: ObjectReader, length: int) -> Iterator[bytes]:
    """At most `length` bytes of the reader, closing it whatever happens."""
    left = length
    try:
        for chunk in reader.iter_chunks():
            if len(chunk) >= left:
                ctx.metrics.bytes_out.inc(left)
                yield chunk[:left]
                return
            left -= len(chunk)
            ctx.metrics.bytes_out.inc(len(chunk))
            yield chunk
    finally:
        reader.close()

