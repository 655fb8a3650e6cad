"""Legacy pushPath (a multipart form carrying a zip) and pullPath (a zip of output/)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from radswift.archive import ArchiveLimits, iter_archive
from radswift.archive.model import ArchiveEntry
from radswift.archive.paths import normalize_entry_path
from radswift.errors import InvalidInput
from radswift.names import INPUT_PREFIX, MAX_OBJECT_NAME_BYTES, OUTPUT_PREFIX
from radswift.services.ioh.bodypipe import BodyPipe
from radswift.services.ioh.context import IohContext
from radswift.services.ioh.core import PushResult, open_area, push_entries
from radswift.services.ioh.core.push_bundle import push_bundle
from radswift.services.ioh.legacy.messages import meta_of, parse_literal, resolve_key, section
from radswift.services.ioh.multipart import MultipartReader, Part

FORM_FIELDS = ("d_msg", "filename")
"""The form fields pfurl sends beside the file part `local`; others are ignored."""


def push_form(ctx: IohContext, pipe: BodyPipe, boundary: str) -> dict[str, Any]:
    """Read the form's `d_msg` and `filename`, then stream `local` into the key's input/.

    A repeated push of a key replaces its input (the original overwrote `input/data`),
    in the server's layout (`--layout`: one object per file, or one bundle)."""
    reader = MultipartReader(pipe.read, boundary)
    fields: dict[str, str] = {}
    while (part := reader.next_part()) is not None:
        if part.name in FORM_FIELDS:
            fields[part.name] = part.text()
            continue
        if part.name != "local":
            continue  # skipped unread: a form of many large fields is never kept
        if "d_msg" not in fields:
            raise InvalidInput("the form must carry d_msg before the file", reason="bad_form")
        meta = meta_of(parse_literal(fields["d_msg"]))
        filename = fields.get("filename", part.filename or "")
        key = resolve_key(section(meta, "remote"), fallback=filename)
        entries = _entries(part, meta, filename, ctx.settings.limits)
        push = push_bundle if ctx.settings.layout == "bundle" else push_entries
        result = push(
            ctx.store,
            key,
            INPUT_PREFIX,
            entries,
            resources=ctx.resources,
            limits=ctx.settings.limits,
            replace=True,
            on_bytes=ctx.metrics.bytes_in.inc,
        )
        while reader.next_part() is not None:
            pass
        return _push_reply(filename, result, section(meta, "specialHandling"))
    raise InvalidInput("the form has no 'local' file part", reason="bad_form")


def _entries(
    part: Part, meta: Mapping[str, Any], filename: str, limits: ArchiveLimits
) -> Iterator[Any]:
    """The zip's entries, or (archive other than zip) the file itself as one entry."""
    compress = section(section(meta, "transport"), "compress")
    if compress.get("archive", "zip") == "zip":
        return iter_archive(part, "zip", limits)
    name = PurePosixPath(filename or part.filename or "data").name
    path = normalize_entry_path(name, max_name_bytes=MAX_OBJECT_NAME_BYTES)
    entry = ArchiveEntry(path=path, is_dir=False, size=None, mtime=None)
    return iter([(entry, part.chunks())])


def _push_reply(filename: str, result: PushResult, handling: Mapping[str, Any]) -> dict[str, Any]:
    """pfurl reads `status` and `msg`; pfcon 2.x reads `postop` (pfurl hands it the reply as
    `stdout.compress.remoteServer`) for the share the job will see: here, the key (as the
    original's storage modes, it names no host path, so no `outgoingPath`)."""
    msg = f"{result.files} files ({result.bytes} bytes) stored in key {result.key} input/"
    write = {
        "file": filename,
        "status": True,
        "msg": msg,
        "filesize": result.bytes,
        "key": result.key,
        "objects": result.files + result.directories,
    }
    postop: dict[str, Any] = {
        "status": True,
        "shareDir": result.key,
        "timestamp": str(datetime.datetime.now()),
    }
    if isinstance(handling.get("op"), str):
        postop["op"] = handling["op"]
    return {
        "stdout": {"write": write, "status": True},
        "status": True,
        "msg": "push OK.",
        "postop": postop,
    }


def remote_status(ctx: IohContext, action: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The `checkRemote` answer. A push target always exists (a key is created on push)."""
    key = resolve_key(section(meta, "remote"))
    exists = ctx.store.container_exists(key)
    return {
        "status": exists or action == "pushPath",
        "isfile": False,
        "isdir": exists,
        "isswiftstore": ctx.settings.swift_storage,
        "createdNewDir": False,
        "key": key,
    }


def pull_zip(ctx: IohContext, meta: Mapping[str, Any]) -> Iterator[bytes]:
    """The zip of the key's output/ (NotFound, before any byte, if there is no such key);
    a bundled output is unpacked into the zip (core/pull_bundle.py)."""
    key = resolve_key(section(meta, "remote"))
    return open_area(
        ctx.store,
        key,
        OUTPUT_PREFIX,
        fmt="zip",
        compress=False,
        resources=ctx.resources,
        limits=ctx.settings.limits,
        on_bytes=ctx.metrics.bytes_out.inc,
    ).chunks


def get_message(query: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """Action and meta of a legacy GET (`meta` is JSON or a Python literal)."""
    action = query.get("action", "pullPath")
    raw = query.get("meta")
    if raw is None:
        raise InvalidInput("a legacy GET needs a meta parameter", reason="bad_message")
    return action, meta_of({"meta": parse_literal(raw)})


def failure(reason: str, detail: str) -> dict[str, Any]:
    """The legacy error shape: pfurl reads `status` and `msg`; REST readers `error`."""
    return {
        "status": False,
        "msg": detail,
        "error": reason,
        "detail": detail,
        "stdout": {"status": False, "msg": detail},
    }
