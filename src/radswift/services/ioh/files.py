"""Single files by path: PUT one object, GET/HEAD one object with HTTP Range.

In an area stored as a bundle (one tar object, radswift.bundle) a file is read out of
the bundle (see core/pull_bundle.find_member), and a PUT is refused: layouts never mix.
In an area replaced by a generation (radswift.generation) a file is read from, and a
PUT writes into, the current generation.

A whole object is checked against its MD5 as it goes out, its last chunk held back
until the check passed (core/verify.py): a corrupt object gives a download short of
its Content-Length. A byte range cannot be checked (the MD5 covers the whole object),
nor fully a file out of a plain bundle (see core/pull_bundle).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from fastapi.responses import JSONResponse, Response, StreamingResponse

from radswift.archive.gate import EntryGate
from radswift.bundle import bundle_object
from radswift.errors import Conflict, InvalidInput, NotFound
from radswift.generation import AreaView, is_reserved
from radswift.names import validate_key
from radswift.services.ioh.bodypipe import BodyPipe
from radswift.services.ioh.context import IohContext
from radswift.services.ioh.core.keys import resolve_here
from radswift.services.ioh.core.pull_bundle import BundleMember, find_member
from radswift.services.ioh.core.replace import before_writing
from radswift.services.ioh.core.spool import spool
from radswift.services.ioh.core.verify import held_back
from radswift.services.ioh.http_errors import error_body
from radswift.services.ioh.ranges import RangeNotSatisfiable, parse_range
from radswift.store.base import ObjectInfo, ObjectReader
from radswift.transfer.hashing import VerifiedChunks

READ_CHUNK = 256 * 1024


def put_file(
    ctx: IohContext, key: str, name: str, pipe: BodyPipe, declared: int | None = None
) -> ObjectInfo:
    """Store the body as `name` (creating the key if needed); readers see it only once whole.

    The file passes the same gate as a pushed tree's entries (the server's limits, checked
    on `declared`, the Content-Length, before a byte is read); and it may not turn the
    area into a tree no reader can unpack (a file under a stored file, or over a folder)."""
    validate_key(key)
    claims = ctx.resources.claims
    area = _area_of(name)
    if name == bundle_object(area):
        raise InvalidInput(
            f"{name!r} is the name reserved for an area's bundle", reason="reserved_name"
        )
    if is_reserved(name[len(area) :]):
        raise InvalidInput(
            f"{name!r} is a name radswift reserves in an area", reason="reserved_name"
        )
    gate = EntryGate(ctx.settings.limits)
    path = gate.admit(name[len(area) :], is_dir=False, size=declared)
    ticket = claims.begin(key)
    try:
        before_writing(ctx.resources, key)
        view = _view(ctx, key, area)
        stored = view.physical(name)
        claims.claim(ticket, stored)
        if not view.is_generation:
            _refuse_in_bundle(ctx, key, area)
            _refuse_clash(ctx, key, area, path)
        chunks = gate.counted(path, iter(lambda: pipe.read(READ_CHUNK), b""))
        body = spool(
            chunks, size_hint=None, small=0, budget=ctx.resources.budget, account=_counted_by_gate
        )
        try:
            ctx.store.ensure_container(key)
            info = ctx.store.put_object(key, stored, body.body, body.size)
        finally:
            body.close()
        ctx.metrics.bytes_in.inc(body.size)
        return dataclasses.replace(info, name=name)
    finally:
        claims.end(ticket)


def _view(ctx: IohContext, key: str, area: str) -> AreaView:
    """Where the area's tree is; a key that does not exist yet is a plain area."""
    try:
        return resolve_here(ctx.store, key, area, ctx.resources.claims)
    except NotFound:
        return AreaView(area=area, prefix=area)


def _counted_by_gate(_: int) -> None:
    """The gate counts the file's bytes against the limits."""


def _refuse_clash(ctx: IohContext, key: str, area: str, path: str) -> None:
    """Conflict if a parent of `path` is a stored file, or `path` a stored folder."""
    parts = path.split("/")
    for depth in range(1, len(parts)):
        parent = area + "/".join(parts[:depth])
        try:
            ctx.store.head_object(key, parent)
        except NotFound:
            continue
        raise Conflict(
            f"{parent!r} is a file in the key {key!r}: nothing can be stored under it",
            reason="exists",
        )
    try:
        under = next(iter(ctx.store.list_objects(key, f"{area}{path}/")), None)
    except NotFound:
        return
    if under is not None:
        raise Conflict(f"{area}{path!r} is a folder in the key {key!r}", reason="exists")


async def get_file(
    ctx: IohContext, key: str, name: str, range_header: str | None, *, head: bool = False
) -> Response:
    """The object, or the requested byte range of it (206), or 416 with the object's size."""
    validate_key(key)
    area = _area_of(name)
    if is_reserved(name[len(area) :]):
        raise NotFound(f"{name!r} is not in the key {key!r}")
    with ctx.resources.leases.reading(key, area):  # until the object is open
        return await _get(ctx, key, name, range_header, head=head)


async def _get(
    ctx: IohContext, key: str, name: str, range_header: str | None, *, head: bool
) -> Response:
    view = await ctx.blocking(_view, ctx, key, _area_of(name))
    plain = not view.is_generation
    stored = view.physical(name)
    if stored in ctx.resources.claims.hidden(key):  # being written, or replaced by a bundle
        if plain:
            return await _from_bundle(ctx, key, name, range_header, head=head)
        raise NotFound(f"{name!r} is not in the key {key!r}")
    try:
        info = await ctx.blocking(ctx.store.head_object, key, stored)
    except NotFound:
        if plain:
            return await _from_bundle(ctx, key, name, range_header, head=head)
        raise NotFound(f"{name!r} is not in the key {key!r}") from None
    headers = {
        "ETag": f'"{info.etag}"',
        "Accept-Ranges": "bytes",
        "Content-Type": info.content_type or "application/octet-stream",
    }
    try:
        wanted = parse_range(range_header, info.size)
    except RangeNotSatisfiable as err:
        return JSONResponse(
            error_body(err.reason, err.message),
            status_code=416,
            headers={"Content-Range": f"bytes */{info.size}"},
        )
    if head:
        headers["Content-Length"] = str(info.size)
        return Response(status_code=200, headers=headers)
    if wanted is None:
        headers["Content-Length"] = str(info.size)
        reader = await ctx.blocking(_open, ctx, key, stored, 0)
        return StreamingResponse(_whole(ctx, reader), headers=headers)
    headers["Content-Range"] = wanted.content_range(info.size)
    headers["Content-Length"] = str(wanted.length)
    reader = await ctx.blocking(_open, ctx, key, stored, wanted.start)
    return StreamingResponse(_stream(ctx, reader, wanted.length), status_code=206, headers=headers)


def _open(ctx: IohContext, key: str, name: str, offset: int) -> ObjectReader:
    return ctx.store.open_object(key, name, offset=offset)


def _whole(ctx: IohContext, reader: ObjectReader) -> Iterator[bytes]:
    """Every byte of the reader, verified (the last chunk only once the MD5s matched)."""
    try:
        chunks = VerifiedChunks(reader, ctx.metrics.bytes_out.inc)
        yield from held_back(chunks, chunks.finish)
    finally:
        reader.close()


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


def _area_of(name: str) -> str:
    return name.split("/", 1)[0] + "/"


def _refuse_in_bundle(ctx: IohContext, key: str, area: str) -> None:
    """A stored bundle (a running bundle push holds the key alone: begin refused us)."""
    try:
        ctx.store.head_object(key, bundle_object(area))
    except NotFound:
        return
    raise Conflict(
        f"the area {area!r} of the key {key!r} is stored as a bundle: push the "
        "whole tree again (replace=true) to change a file",
        reason="area_not_empty",
    )


async def _from_bundle(
    ctx: IohContext, key: str, name: str, range_header: str | None, *, head: bool
) -> Response:
    """The file out of its area's bundle (NotFound as for an object if there is none)."""
    area = _area_of(name)
    bundle = bundle_object(area)
    if bundle in ctx.resources.claims.hidden(key):
        raise NotFound(f"{name!r} is not in the key {key!r}")
    try:
        member = await ctx.blocking(_find, ctx, key, bundle, name[len(area) :])
    except NotFound:
        raise NotFound(f"{name!r} is not in the key {key!r}") from None
    headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
    try:
        wanted = parse_range(None if head else range_header, member.size)
    except RangeNotSatisfiable as err:
        member.close()
        return JSONResponse(
            error_body(err.reason, err.message),
            status_code=416,
            headers={"Content-Range": f"bytes */{member.size}"},
        )
    if head or wanted is None:
        headers["Content-Length"] = str(member.size)
        if head:
            member.close()
            return Response(status_code=200, headers=headers)
        return StreamingResponse(_member_bytes(ctx, member, 0, member.size), headers=headers)
    headers["Content-Range"] = wanted.content_range(member.size)
    headers["Content-Length"] = str(wanted.length)
    return StreamingResponse(
        _member_bytes(ctx, member, wanted.start, wanted.length), status_code=206, headers=headers
    )


def _find(ctx: IohContext, key: str, bundle: str, path: str) -> BundleMember:
    return find_member(ctx.store, key, bundle, path, limits=ctx.settings.limits)


def _member_bytes(
    ctx: IohContext, member: BundleMember, start: int, length: int
) -> Iterator[bytes]:
    """`length` bytes of the member from `start` (the bytes before are read and dropped)."""
    skip, left = start, length
    try:
        for chunk in member.chunks:
            if skip >= len(chunk):
                skip -= len(chunk)
                continue
            piece = chunk[skip : skip + left]
            skip = 0
            left -= len(piece)
            ctx.metrics.bytes_out.inc(len(piece))
            yield piece
            if left <= 0:
                return
    finally:
        member.close()
