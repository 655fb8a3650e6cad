"""The legacy control actions: hello, ls, rmtree, internalctl (blocking; run in a thread)."""

from __future__ import annotations

import datetime
import os
import platform
from collections.abc import Mapping
from typing import Any

from radswift.errors import InvalidInput, NotFound
from radswift.services.ioh.context import IohContext
from radswift.services.ioh.core import delete_key, list_key
from radswift.services.ioh.legacy.messages import resolve_key


def hello(ctx: IohContext, meta: Mapping[str, Any], user_agent: str) -> dict[str, Any]:
    """`{"stdout": {"d_ret": {...}, "status": ...}}` as the original answered (plus a
    top-level status, so pfurl without --raw reports it too)."""
    d_ret, status = hello_answer(ctx.settings.name, ctx.settings.version, meta)
    d_ret["User-agent"] = user_agent
    return {"stdout": {"d_ret": d_ret, "status": status}, "status": status}


def hello_answer(name: str, version: str, meta: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The `hello` d_ret of the pf* services (pfioh and pman alike) and whether `askAbout`
    was one they answer: timestamp, sysinfo or echoBack."""
    ask = meta.get("askAbout")
    d_ret: dict[str, Any] = {"name": name, "version": version}
    status = True
    if ask == "timestamp":
        d_ret["timestamp"] = {"now": datetime.datetime.now().strftime("%Y%m%d%H%M%S.%f")}
    elif ask == "sysinfo":
        d_ret["sysinfo"] = _sysinfo()
    elif ask == "echoBack":
        d_ret["echoBack"] = {"msg": meta.get("echoBack")}
    else:
        status = False
    return d_ret, status


def _sysinfo() -> dict[str, Any]:
    """What the original reported, minus its probe of an outside address."""
    uname = platform.uname()
    return {
        "system": uname.system,
        "machine": uname.machine,
        "platform": platform.platform(),
        "uname": list(uname),
        "version": uname.version,
        "cpucount": os.cpu_count(),
        "loadavg": list(os.getloadavg()),
        "hostname": uname.node,
    }


def ls(ctx: IohContext, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The entries directly under the key (or `meta.subdir` in it), like a scandir."""
    key = resolve_key(meta)
    subdir = _subdir(meta.get("subdir"))
    try:
        infos = list_key(ctx.store, key, subdir, ctx.resources.claims)
    except NotFound:
        return {"status": False, "msg": f"no key {key!r}", "d_ls": {}}
    d_ls: dict[str, dict[str, Any]] = {}
    for info in infos:
        head, sep, _ = info.name[len(subdir) :].partition("/")
        if not head or head in d_ls:
            continue
        d_ls[head] = {
            "type": "dir" if sep else "file",
            "path": f"{key}/{subdir}{head}",
            "size": 0 if sep else info.size,
            "mtime": info.last_modified,
        }
    return {"status": True, "msg": f"Successful listing of key {key}", "d_ls": d_ls}


def _subdir(value: object) -> str:
    if not isinstance(value, str) or not value.strip("/"):
        return ""
    parts = [p for p in value.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidInput("subdir may not contain '..'", reason="bad_path")
    return "/".join(parts) + "/"


def rmtree(ctx: IohContext, meta: Mapping[str, Any]) -> dict[str, Any]:
    """Delete the key (all its objects and its container); nothing outside it."""
    key = resolve_key(meta)
    try:
        count = delete_key(
            ctx.store,
            key,
            ctx.resources.claims,
            ctx.resources.put_pool,
            pending=ctx.resources.pending,
        )
    except NotFound:
        return {"status": False, "msg": f"Could not remove key {key}: it does not exist"}
    return {"status": True, "msg": f"Successfully removed key {key} ({count} objects)"}


def internalctl(ctx: IohContext, meta: Mapping[str, Any]) -> dict[str, Any]:
    """Read-only: `{"var": name, "get": ...}` for a few harmless settings; no `set`."""
    if "set" in meta:
        raise InvalidInput("internalctl 'set' is not supported", reason="unsupported")
    values = {
        "name": ctx.settings.name,
        "version": ctx.settings.version,
        "b_swiftStorage": ctx.settings.swift_storage,
        "httpResponse": ctx.settings.http_response,
        "createDirsAsNeeded": ctx.settings.create_dirs,
        "b_tokenAuth": ctx.settings.tokens is not None,
    }
    var = meta.get("var")
    if var in (None, "all", "*"):
        return {"status": True, "d_ret": values}
    if var not in values:
        raise InvalidInput(f"unknown variable {str(var)[:40]!r}", reason="unknown_variable")
    return {"status": True, "d_ret": {var: values[str(var)]}}
