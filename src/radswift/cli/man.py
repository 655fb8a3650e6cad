"""`radswift serve man` (and the `pman` command): run the job service.

The composition root of pman: the only place that reads its flags and the environment,
builds the store, the registry, the backend and the manager, and runs uvicorn.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from radswift.cli import options as opt
from radswift.errors import ConfigError, RadswiftError
from radswift.services.man.settings import DEFAULT_IP, DEFAULT_PORT

if TYPE_CHECKING:
    from radswift.jobmanager import JobManager
    from radswift.jobs.lifecycle import ManagedBackend
    from radswift.services.man import ManSettings

DEFAULT_STORE_BASE = Path("/tmp/radswift-pfioh")  # the same default as pfioh: one data store
DEFAULT_CREDENTIALS_FILE = Path("/etc/swift/swift-credentials.cfg")
CLUSTER_BACKENDS = ("kubernetes", "openshift")
SWITCH_INTERVAL = 0.001
"""Seconds a thread may hold the GIL while another waits for it (Python's default: 5 ms).
A status call needs the GIL three times (event loop, worker, event loop); beside busy job
threads (the local backend's in-process get and publish) each wait could take the whole
default interval. Shorter slices keep status calls quick while jobs run."""
"""Backends behind a cluster API, which must answer before pman listens."""

MAN_HELP = "\n\n".join(
    (
        "Serve pman, the job service: the REST API under /api/v1/jobs (OpenAPI page at /docs),"
        " the ChRIS pman shape on /api/v1/ and /api/v1/<jid>/, /healthz and /metrics.",
        "Each job runs its processor between radswift's get (the key's input/ into"
        " /share/incoming) and publish (/share/outgoing into the key's output/) on --backend:"
        " local (host processes, in bubblewrap when installed), podman, or kubernetes/openshift"
        " (Jobs through the cluster API: --namespace, --kubeconfig or in-cluster). Jobs beyond"
        " --max-running wait as notstarted, in order. The registry (--db, SQLite) keeps every"
        " job; a restarted pman picks its jobs up where they are.",
        "Storage: with --swift-storage, OpenStack Swift (credentials from --swift-credentials,"
        " else the ST_* environment, else /etc/swift/swift-credentials.cfg; jobs get the same"
        f" credentials as a file); without it a local store in --storeBase (default"
        f" {DEFAULT_STORE_BASE}, pfioh's default too).",
        "Limits a job may ask for: memory_limit 1Mi to 1Ti, cpu_limit 1m to 256 (256000m),"
        " gpu_limit 0 to 16 (only on kubernetes/openshift: local and podman have no GPUs to"
        " give, a 422); anything else is a 4xx and nothing is registered. The local backend"
        " applies memory as an rlimit and records CPU as not applied (see docs/security.md).",
        "Token auth: --enableTokenAuth --tokenPath F, exactly as pfioh.",
        "Flags of the original pman: --DBpath is --db; --clearDB forgets every job at start;"
        " --container-env podman|local selects the backend (other values are refused);"
        " --rawmode, --http, --listeners, --listenerSleep, --protocol, --debugToFile,"
        " --debugFile, --DBsavePeriod and --forever are accepted and change nothing (every"
        " reply is HTTP, the registry is written at every change).",
    )
)


def _state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "radswift" / "pman"


def man(
    ip: opt.ListenIp = DEFAULT_IP,
    port: Annotated[int, typer.Option("--port", help="Port (0: any free one).")] = DEFAULT_PORT,
    backend: Annotated[
        str, typer.Option("--backend", help="local | podman | kubernetes | openshift.")
    ] = "local",
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            "--DBpath",
            help="The registry (default ~/.local/state/radswift/pman/registry.db).",
        ),
    ] = None,
    jobs_dir: Annotated[
        Path | None,
        typer.Option(
            "--jobs-dir", help="The backend's job directories (default: beside the registry)."
        ),
    ] = None,
    store_base: opt.StoreBase = DEFAULT_STORE_BASE,
    swift_storage: opt.SwiftStorage = False,
    swift_credentials: opt.SwiftCredentials = None,
    token_auth: opt.TokenAuth = False,
    token_path: opt.TokenPath = None,
    max_running: Annotated[
        int | None,
        typer.Option(
            "--max-running", min=1, help="Jobs run at once; the rest wait (default: no limit)."
        ),
    ] = None,
    isolation: Annotated[
        str,
        typer.Option(
            "--isolation",
            help="local backend: auto (bubblewrap when installed) | bubblewrap | none.",
        ),
    ] = "auto",
    emissary: Annotated[
        Path | None,
        typer.Option(
            "--emissary",
            help="local backend: a built radswift-emissary (default: built with gcc into"
            " the jobs directory).",
        ),
    ] = None,
    radswift_image: Annotated[
        str | None,
        typer.Option(
            "--radswift-image",
            help="podman backend: the image of the get and publish containers.",
        ),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace",
            help="kubernetes/openshift: where the Jobs go (default: the pod's own namespace,"
            " else 'default').",
        ),
    ] = None,
    kubeconfig: Annotated[
        Path | None,
        typer.Option(
            "--kubeconfig",
            envvar="KUBECONFIG",
            help="kubernetes/openshift: a kubeconfig file (default: in-cluster configuration).",
        ),
    ] = None,
    retention: Annotated[
        float | None,
        typer.Option(
            "--retention-seconds",
            min=0,
            help="kubernetes/openshift: delete finished jobs after this long (default: keep"
            " them; the Jobs' ttlSecondsAfterFinished is the cluster's backstop).",
        ),
    ] = None,
    clear_db: Annotated[bool, typer.Option("--clearDB", help="Forget every job at start.")] = False,
    container_env: Annotated[
        str | None, typer.Option("--container-env", help="Legacy: the backend.")
    ] = None,
    verbosity: opt.Verbosity = 0,
    _rawmode: Annotated[str | None, typer.Option("--rawmode", hidden=True)] = None,
    _http: Annotated[bool, typer.Option("--http", hidden=True)] = False,
    _listeners: Annotated[str | None, typer.Option("--listeners", hidden=True)] = None,
    _listener_sleep: Annotated[str | None, typer.Option("--listenerSleep", hidden=True)] = None,
    _protocol: Annotated[str | None, typer.Option("--protocol", hidden=True)] = None,
    _debug_to_file: Annotated[bool, typer.Option("--debugToFile", hidden=True)] = False,
    _debug_file: Annotated[str | None, typer.Option("--debugFile", hidden=True)] = None,
    _save_period: Annotated[str | None, typer.Option("--DBsavePeriod", hidden=True)] = None,
    _forever: Annotated[bool, typer.Option("--forever", hidden=True)] = False,
) -> None:
    """Serve pman (see the command's help)."""
    from radswift.cli.serve import _configure_logging, _tokens

    _configure_logging(verbosity)
    name = _backend_name(container_env or backend)
    from radswift.jobs.managed.selfguard import guard_service

    guard_service(name)
    state = _state_dir()
    registry_path = (db or state / "registry.db").expanduser().absolute()
    settings_tokens = _tokens(token_auth, token_path)
    manager = _manager(
        name,
        registry_path,
        (jobs_dir or registry_path.parent / f"jobs-{name}"),
        store_base,
        swift_storage,
        swift_credentials,
        max_running,
        isolation,
        clear_db,
        {
            "isolation": isolation,
            "emissary": emissary,
            "radswift_image": radswift_image,
            "namespace": namespace,
            "kubeconfig": kubeconfig,
            "retention_seconds": retention,
            "hidden": _service_files(registry_path, token_path, swift_credentials, swift_storage),
        },
    )
    from radswift.services.man import ManSettings

    settings = ManSettings(
        tokens=settings_tokens, backend=name, storage="swift" if swift_storage else "local"
    )
    _serve(manager, settings, ip, port, verbosity)


def _service_files(
    registry: Path, token: Path | None, credentials: Path | None, swift: bool
) -> list[Path]:
    """pman's own files, which no job step may read (local backend in bubblewrap)."""
    files = [registry, registry.with_name(f"{registry.name}-wal")]
    files.append(registry.with_name(f"{registry.name}-shm"))
    if token is not None:
        files.append(token)
    if swift:
        files.append(credentials or DEFAULT_CREDENTIALS_FILE)
    return [path.expanduser().absolute() for path in files]


def _backend_name(value: str) -> str:
    from radswift.jobs.managed import BACKENDS

    if value not in BACKENDS:
        raise ConfigError(f"--backend must be one of {', '.join(sorted(BACKENDS))}, not {value!r}")
    return value


def _manager(
    name: str,
    registry_path: Path,
    jobs_dir: Path,
    store_base: Path,
    swift: bool,
    credentials_file: Path | None,
    max_running: int | None,
    isolation: str,
    clear_db: bool,
    options: dict[str, object],
) -> JobManager:
    from radswift.cli.serve import _store
    from radswift.jobmanager import JobManager, ManagerConfig, Registry
    from radswift.jobs.managed import BackendConfig, open_backend

    base = store_base.expanduser().absolute()
    store = _store(swift, credentials_file, base, connections=8)
    backend = open_backend(
        name,
        BackendConfig(
            root=jobs_dir.expanduser().absolute(),
            environ=dict(os.environ),
            options={**options, "store": store},  # cluster backends read status objects
        ),
    )
    if name in CLUSTER_BACKENDS:
        _check_reachable(backend)
    config = ManagerConfig(
        max_running=max_running,
        store_url=None if swift else f"file://{base}",
        credentials=_job_credentials(credentials_file) if swift else None,
    )
    registry = Registry(registry_path)
    if clear_db:
        registry.clear()
    return JobManager(registry, backend, config=config, store=store)


def _check_reachable(backend: ManagedBackend) -> None:
    """The cluster API answers pman's list of its Jobs and pods (what the manager's start
    does) before pman listens: an unreachable or refusing API is the CLI's one-line error
    and exit code, not the traceback of a failed app startup."""
    try:
        list(backend.adopt())
    except RadswiftError:
        backend.close()
        raise


def _job_credentials(path: Path | None) -> bytes:
    """The credentials file every job gets: --swift-credentials, else ST_* as one."""
    if path is not None:
        return path.expanduser().read_bytes()
    env = os.environ
    if env.get("ST_AUTH") and env.get("ST_USER") and env.get("ST_KEY"):
        return (
            f"[AUTHORIZATION]\nosAuthUrl = {env['ST_AUTH']}\nusername = {env['ST_USER']}\n"
            f"password = {env['ST_KEY']}\n"
        ).encode()
    if DEFAULT_CREDENTIALS_FILE.is_file():
        return DEFAULT_CREDENTIALS_FILE.read_bytes()
    raise ConfigError(
        "jobs need Swift credentials as a file: pass --swift-credentials FILE "
        "(or set ST_AUTH, ST_USER and ST_KEY)"
    )


def _serve(manager: JobManager, settings: ManSettings, ip: str, port: int, verbosity: int) -> None:
    import uvicorn

    from radswift.services.man import create_app

    app = create_app(manager, settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((ip, port))
        sock.listen(2048)  # connections wait in the backlog until the app has started
    except OSError as err:
        raise ConfigError(f"cannot listen on {ip}:{port}: {err.strerror}") from None
    level = ("warning", "info", "debug")[min(max(verbosity, 0), 2)]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level=level, access_log=verbosity >= 1, timeout_keep_alive=30)
    )
    bound = sock.getsockname()[1]
    typer.echo(
        f"pman: listening on http://{ip}:{bound} (backend {settings.backend},"
        f" {settings.storage} storage)",
        err=True,
    )
    sys.setswitchinterval(SWITCH_INTERVAL)
    server.run(sockets=[sock])
    if not server.started:
        raise typer.Exit(1)
