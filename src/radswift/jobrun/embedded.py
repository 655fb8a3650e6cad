"""pfioh and pman in this process, on loopback and free ports, for one `radswift job run`.

A user with no services running still goes through the real ones: the same ASGI apps
(radswift.services.ioh, radswift.services.man) each served by uvicorn in a thread of
this process, over their own store objects. Both stop, and pman's manager closes, when
the `with` block ends; nothing outlives the process (the manager's job threads are
daemon threads, and `radswift job run` cancels its job before it stops pman, because a
stopped pman leaves running jobs running on purpose).

    with EmbeddedServices.start(EmbeddedConfig(state=tmp, store_base=base)) as services:
        services.ioh_url, services.man_url
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from radswift.errors import ConfigError
from radswift.store.base import ObjectStore

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
BACKENDS = ("local", "podman")


@dataclass(frozen=True, kw_only=True)
class EmbeddedConfig:
    """Where the embedded services keep their state and data.

    state: pman's registry and job directories (one run's; a temporary directory is fine).
    store_base: the local store's directory, used unless `swift_environ` is given.
    swift_environ: an environment with Swift credentials (ST_* or OS_*): keys in Swift,
        and `job_credentials` (the credentials file every job gets) is then required.
    swift_retries: attempts per Swift request (the caller's RADSWIFT_RETRIES); None: the
        retry policy's default.
    backend: pman's backend (local | podman) and its options (BackendConfig.options).
    """

    state: Path
    store_base: Path
    swift_environ: Mapping[str, str] | None = None
    job_credentials: bytes | None = field(default=None, repr=False)
    swift_retries: int | None = None
    backend: str = "local"
    backend_options: Mapping[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"the embedded pman runs the {' or '.join(BACKENDS)} backend, not "
                f"{self.backend!r}: start pman where that backend is and pass --pman URL"
            )
        if self.swift_environ is not None and self.job_credentials is None:
            raise ConfigError("jobs on Swift need the credentials file they are given")

    @property
    def storage(self) -> str:
        return "local" if self.swift_environ is None else "swift"


class _Served:
    """One ASGI app served by uvicorn in a daemon thread on a free loopback port."""

    def __init__(self, app: Any, name: str) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, 0))
        self.url = f"http://{LOOPBACK}:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name=name, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.stop()
                raise ConfigError(f"the embedded {name} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(STOP_TIMEOUT)
        self.sock.close()


class EmbeddedServices:
    """pfioh and pman, started together and stopped together."""

    def __init__(self, config: EmbeddedConfig) -> None:
        self.config = config
        self._served: list[_Served] = []
        self._log: logging.Handler | None = None
        self._man_store: ObjectStore | None = None  # pfioh closes its own store

    @classmethod
    def start(cls, config: EmbeddedConfig) -> EmbeddedServices:
        services = cls(config)
        services._log_to_file()
        try:
            services._served.append(_Served(services._ioh_app(), "pfioh"))
            services._served.append(_Served(services._man_app(), "pman"))
        except BaseException:
            services.stop()
            raise
        return services

    @property
    def ioh_url(self) -> str:
        return self._served[0].url

    @property
    def man_url(self) -> str:
        return self._served[1].url

    def stop(self) -> None:
        """pman first (its manager closes with its app), then pfioh."""
        while self._served:
            self._served.pop().stop()
        if self._man_store is not None:
            self._man_store.close()
            self._man_store = None
        if self._log is not None:
            logging.getLogger("radswift").removeHandler(self._log)
            self._log.close()
            self._log = None

    @property
    def log_path(self) -> Path:
        return self.config.state / "services.log"

    def _log_to_file(self) -> None:
        """The services' warnings (e.g. "token auth is off", harmless on loopback for one
        run) go to a file in the state directory, not between the job's own lines."""
        self.config.state.mkdir(parents=True, exist_ok=True)
        self._log = logging.FileHandler(self.log_path)
        self._log.setLevel(logging.WARNING)
        logging.getLogger("radswift").addHandler(self._log)

    def _store(self, workers: int) -> ObjectStore:
        from radswift.store.factory import open_store
        from radswift.store.local import LocalStore

        if self.config.swift_environ is None:
            self.config.store_base.mkdir(parents=True, exist_ok=True)
            return LocalStore(self.config.store_base)
        return open_store(
            None,
            environ=self.config.swift_environ,
            workers=workers,
            retries=self.config.swift_retries,
        )

    def _ioh_app(self) -> Any:
        from radswift.services.ioh import IohSettings, create_app

        settings = IohSettings(swift_storage=self.config.storage == "swift")
        return create_app(self._store(32), settings, stop=_no_stop, close_store=True)

    def _man_app(self) -> Any:
        from radswift.jobmanager import JobManager, ManagerConfig, Registry
        from radswift.jobs.managed import BackendConfig, open_backend
        from radswift.services.man import ManSettings, create_app

        state = self.config.state
        backend = open_backend(
            self.config.backend,
            BackendConfig(
                root=(state / "jobs").absolute(),
                environ=dict(self.config.environ),
                options=dict(self.config.backend_options),
            ),
        )
        local = self.config.swift_environ is None
        manager_config = ManagerConfig(
            store_url=f"file://{self.config.store_base.absolute()}" if local else None,
            credentials=None if local else self.config.job_credentials,
        )
        state.mkdir(parents=True, exist_ok=True)
        self._man_store = self._store(8)
        manager = JobManager(
            Registry(state / "registry.db"), backend, config=manager_config, store=self._man_store
        )
        settings = ManSettings(backend=self.config.backend, storage=self.config.storage)
        return create_app(manager, settings)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


_no_stop: Callable[[], None] = lambda: None  # noqa: E731 (pfioh's one-shot stop: unused here)
