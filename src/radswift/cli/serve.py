"""`radswift serve ioh` (and the `pfioh` command): run the file IO service.

The composition root of pfioh: the only place that reads its flags and the
environment (Swift credentials), builds the store and the settings, and runs uvicorn.
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
import socket
import sys
from contextlib import suppress
from pathlib import Path
from typing import Annotated

import typer

from radswift.archive.limits import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_ENTRY_BYTES,
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_RATIO,
    DEFAULT_MAX_TOTAL_BYTES,
    ArchiveLimits,
)
from radswift.bundle import LAYOUTS, Layout
from radswift.cli import options as opt
from radswift.services.ioh.settings import (
    DEFAULT_BODY_IDLE_TIMEOUT,
    DEFAULT_IP,
    DEFAULT_MAX_PUSHES,
    DEFAULT_MAX_PUSHES_PER_CLIENT,
    DEFAULT_MAX_PUSHES_PER_KEY,
    DEFAULT_PORT,
    DEFAULT_TRANSFER,
    DEFAULT_WORKERS,
    IohSettings,
    Tuning,
)
from radswift.store.base import ObjectStore

DEFAULT_STORE_BASE = Path("/tmp/radswift-pfioh")
app = typer.Typer(help="Run radswift's services.", no_args_is_help=True, rich_markup_mode=None)

IOH_HELP = "\n\n".join(
    (
        "Serve pfioh, the file IO service: the REST API under /api/v1/ (OpenAPI page at /docs),"
        " the legacy pfioh protocol on /api/v1/cmd, /healthz and /metrics.",
        "Storage: with --swift-storage, OpenStack Swift (credentials from --swift-credentials,"
        " else the ST_* / OS_* environment, else /etc/swift/swift-credentials.cfg); without it,"
        f" a local store in --storeBase (default {DEFAULT_STORE_BASE}).",
        "Legacy flags: without --forever the service answers ONE request (not counting /healthz,"
        " /metrics and pfurl's checkRemote probes, so one pfurl push or pull goes through) and"
        " exits, as the original pfioh did; pass --forever to keep serving."
        " --httpResponse and --createDirsAsNeeded are accepted and change nothing: every reply"
        " is a correct HTTP response, and keys are created when pushed.",
        "Token auth: --enableTokenAuth --tokenPath F (an INI file with an [AUTH TOKENS] section,"
        " or one token per line). Every route but /healthz then needs 'Authorization: Bearer T':"
        " 400 without the header, 401 with a wrong token. Without token auth a warning is"
        " printed.",
    )
)


def ioh(
    ip: opt.ListenIp = DEFAULT_IP,
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = DEFAULT_PORT,
    forever: Annotated[bool, typer.Option("--forever", help="Keep serving.")] = False,
    store_base: opt.StoreBase = DEFAULT_STORE_BASE,
    http_response: Annotated[
        bool, typer.Option("--httpResponse", help="Legacy; no effect.")
    ] = False,
    create_dirs: Annotated[
        bool, typer.Option("--createDirsAsNeeded", help="Legacy; no effect.")
    ] = False,
    swift_storage: opt.SwiftStorage = False,
    swift_credentials: opt.SwiftCredentials = None,
    token_auth: opt.TokenAuth = False,
    token_path: opt.TokenPath = None,
    verbosity: opt.Verbosity = 0,
    max_entries: Annotated[
        int, typer.Option(help="Most entries in one push.")
    ] = DEFAULT_MAX_ENTRIES,
    max_total_bytes: Annotated[
        int, typer.Option(help="Most bytes in one push.")
    ] = DEFAULT_MAX_TOTAL_BYTES,
    max_entry_bytes: Annotated[
        int, typer.Option(help="Largest file in one push.")
    ] = DEFAULT_MAX_ENTRY_BYTES,
    max_ratio: Annotated[
        float, typer.Option(help="Largest compression ratio (bomb guard).")
    ] = DEFAULT_MAX_RATIO,
    max_header_bytes: Annotated[
        int,
        typer.Option(
            help="Largest tar extended header (pax, GNU long name). Above ~6 KiB a hostile pax "
            "header can stall the service on Pythons without the CVE-2024-6232 fix "
            "(docs/security.md)."
        ),
    ] = DEFAULT_MAX_HEADER_BYTES,
    workers: Annotated[
        int, typer.Option(help="Objects of one push stored, or of one pull fetched, at once.")
    ] = DEFAULT_WORKERS,
    layout: Annotated[
        str,
        typer.Option(
            "--layout",
            help="How a push stores a tree unless it says (?layout=): 'objects' (one"
            " object per file) or 'bundle' (one tar object per push: much faster for many small"
            " files; pulls unpack it). The legacy pushPath always uses this.",
        ),
    ] = "objects",
    skip_store_check: Annotated[
        bool,
        typer.Option(
            "--skip-store-check",
            help="Start even if the store cannot be reached or refuses"
            " the credentials (checked at start-up otherwise: exit 77 or 69).",
        ),
    ] = False,
    body_idle_timeout: Annotated[
        float,
        typer.Option(
            "--body-idle-timeout",
            help="Seconds an upload may send nothing before it is aborted (408, nothing stored).",
        ),
    ] = DEFAULT_BODY_IDLE_TIMEOUT,
    max_pushes: Annotated[
        int, typer.Option("--max-pushes", help="Uploads in flight at once; more are refused (429).")
    ] = DEFAULT_MAX_PUSHES,
    max_pushes_per_client: Annotated[
        int,
        typer.Option(
            "--max-pushes-per-client",
            help="Uploads in flight from one client address (raise it behind a reverse proxy).",
        ),
    ] = DEFAULT_MAX_PUSHES_PER_CLIENT,
    max_pushes_per_key: Annotated[
        int, typer.Option("--max-pushes-per-key", help="Uploads in flight to one key.")
    ] = DEFAULT_MAX_PUSHES_PER_KEY,
) -> None:
    """Serve pfioh (see the command's help)."""
    _configure_logging(verbosity)
    _limit_malloc_arenas()
    settings = IohSettings(
        tokens=_tokens(token_auth, token_path),
        limits=ArchiveLimits(
            max_entries=max_entries,
            max_total_bytes=max_total_bytes,
            max_entry_bytes=max_entry_bytes,
            max_ratio=max_ratio,
            max_header_bytes=max_header_bytes,
        ),
        tuning=Tuning(
            transfer=dataclasses.replace(DEFAULT_TRANSFER, workers=workers),
            pool_workers=max(2 * workers, 8),
            body_idle_timeout=body_idle_timeout,
            max_pushes=max_pushes,
            max_pushes_per_client=max_pushes_per_client,
            max_pushes_per_key=max_pushes_per_key,
        ),
        swift_storage=swift_storage,
        http_response=http_response,
        create_dirs=create_dirs,
        one_shot=not forever,
        layout=_layout(layout),
    )
    store = _store(
        swift_storage,
        swift_credentials,
        store_base,
        connections=2 * settings.tuning.pool_workers + 4,
    )
    if not skip_store_check:
        _check(store)
    _run(store, settings, ip, port, verbosity)  # the app warns when token auth is off


ioh.__doc__ = IOH_HELP
app.command("ioh", help=IOH_HELP)(ioh)


def _layout(value: str) -> Layout:
    from radswift.errors import ConfigError

    for name in LAYOUTS:
        if name == value:
            return name
    raise ConfigError(f"--layout must be one of {', '.join(LAYOUTS)}, not {value!r}")


def _tokens(enabled: bool, path: Path | None) -> frozenset[str] | None:
    from radswift.errors import ConfigError
    from radswift.services.ioh.auth import load_tokens

    if not enabled:
        return None
    if path is None:
        raise ConfigError("--enableTokenAuth needs --tokenPath FILE")
    return load_tokens(path)


def _store(swift: bool, credentials: Path | None, base: Path, *, connections: int) -> ObjectStore:
    """Swift with a connection per put/get worker (so none waits for, or churns, one)."""
    from radswift.podcontract.env import retries_from
    from radswift.store.factory import open_store
    from radswift.store.local import LocalStore

    if swift:
        return open_store(
            None,
            environ=os.environ,
            credentials_file=credentials,
            workers=connections,
            retries=retries_from(os.environ),
        )
    return LocalStore(base)


def _check(store: ObjectStore) -> None:
    """The start-up check of radswift.store.factory.check_store; the store closed if it fails."""
    from radswift.store.factory import check_store

    try:
        check_store(store)
    except BaseException:
        store.close()
        raise


def _listen(ip: str, port: int) -> socket.socket:
    """The listening socket, bound before the "listening on" line is printed."""
    sock = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((ip, port))
    except OSError as exc:
        sock.close()
        typer.echo(f"pfioh: error: cannot listen on {ip}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    return sock


def _run(store: ObjectStore, settings: IohSettings, ip: str, port: int, verbosity: int) -> None:
    import uvicorn

    from radswift.services.ioh import create_app
    from radswift.services.ioh.protocol import BoundedHttpToolsProtocol

    box: list[uvicorn.Server] = []

    def stop() -> None:
        box[0].should_exit = True

    app = create_app(store, settings, stop=stop, close_store=True)
    level = ("warning", "info", "debug")[min(max(verbosity, 0), 2)]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=ip,
            port=port,
            log_level=level,
            access_log=verbosity >= 1,
            timeout_keep_alive=30,
            http=BoundedHttpToolsProtocol,
        )
    )
    box.append(server)
    try:
        sock = _listen(ip, port)
    except BaseException:
        store.close()
        raise
    host = f"[{ip}]" if ":" in ip else ip
    typer.echo(f"pfioh: listening on http://{host}:{port} ({store.description})", err=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise typer.Exit(1)


def _limit_malloc_arenas(arenas: int = 4) -> None:
    """glibc gives each thread its own malloc arena, and freed buffers of many pool
    threads then linger per arena; a few shared arenas keep pfioh's RSS flat."""
    with suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX


def _configure_logging(verbosity: int) -> None:
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(max(verbosity, 0), 2)]
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _register_man() -> None:
    from radswift.cli.man import MAN_HELP, man

    app.command("man", help=MAN_HELP)(man)


_register_man()
