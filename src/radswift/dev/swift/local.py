"""`LocalSwift`: a real single-node OpenStack Swift on loopback, for tests and demos.

One replica ring, one device in a plain directory, account/container/object servers, a
container updater, a proxy with tempauth (or another `ProxyAuth`) and, if installed, a
memcached of our own. Every process is ours, recorded in `workdir/state.json`, stopped by
PID. Nothing outside `workdir` and the Swift venv is touched (never /etc/swift).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

from radswift.dev.swift import config, processes
from radswift.dev.swift.config import DEFAULT_USERS, NodeLayout, ProxyAuth, TempauthUser
from radswift.dev.swift.probe import wait_ready
from radswift.dev.swift.state import STATE_FILE, SwiftState, load_state, save_state
from radswift.dev.swift.venv import default_venv_dir, ensure_swift_venv, venv_python
from radswift.errors import ConfigError, RadswiftError

LAUNCHER = Path(__file__).with_name("_launcher.py")
READY_TIMEOUT_S = 30.0
_XATTR = "user.radswift.probe"


class LocalSwift:
    """Handle on a running local Swift; build it with `start()` or `attach()`."""

    def __init__(self, state: SwiftState) -> None:
        self._state = state

    # -- lifecycle ---------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        host: str = "127.0.0.1",
        proxy_port: int | None = None,
        memcached: bool = True,
        proxy_pipeline: ProxyAuth | None = None,
        venv_dir: Path | None = None,
        users: tuple[TempauthUser, ...] = DEFAULT_USERS,
        proxy_workers: int = 0,
    ) -> LocalSwift:
        """Start every server in `workdir` and return once an authenticated request works.

        `proxy_port` None picks a free port; a busy port is refused (ConfigError).
        `proxy_pipeline` None means tempauth with `users`. `venv_dir` None means
        `~/.cache/radswift/swift-venv-2.38.3`, installed on first use. `proxy_workers` 0
        runs the proxy as one process; N forks N workers (for benchmarks on more cores).
        """
        workdir = workdir.expanduser().resolve()
        _refuse_running(workdir)
        venv = venv_dir if venv_dir is not None else default_venv_dir()
        ensure_swift_venv(venv)
        devices = workdir / "data"
        _check_xattrs(devices / config.DEVICE)
        auth = proxy_pipeline if proxy_pipeline is not None else config.tempauth(users)
        memcached_bin = shutil.which("memcached") if memcached else None
        ports = _choose_ports(host, proxy_port, with_memcached=memcached_bin is not None)
        state = SwiftState(
            workdir=workdir,
            host=host,
            venv_dir=venv,
            ports=ports,
            users=list(users) if proxy_pipeline is None else [],
            memcached=memcached_bin is not None,
        )
        layout = NodeLayout(
            swift_dir=workdir / "etc",
            devices=devices,
            host=host,
            ports=ports,
            run_user=pwd.getpwuid(os.geteuid()).pw_name,
            proxy_workers=proxy_workers,
            memcached=f"{host}:{ports['memcached']}" if memcached_bin else None,
        )
        swift = cls(state)
        try:
            swift._launch(layout, auth, memcached_bin)
        except BaseException:
            with contextlib.suppress(RadswiftError):
                swift.stop()
            raise
        return swift

    @classmethod
    def attach(cls, workdir: Path) -> LocalSwift:
        """The local Swift recorded in `workdir/state.json` (ConfigError if there is none)."""
        return cls(load_state(workdir.expanduser().resolve()))

    def stop(self) -> None:
        """Stop every server (SIGTERM, then SIGKILL); data and configs stay in `workdir`."""
        processes.stop_all(self._state.processes.values())
        self._state.processes.clear()
        save_state(self._state)

    def stop_proxy(self) -> None:
        """Stop only the proxy: clients then see connection errors until `start_proxy()`."""
        proxy = self._state.processes.pop("proxy", None)
        if proxy is not None:
            processes.stop_all([proxy])
            processes.wait_port_released(self._state.host, self._state.ports["proxy"])
        save_state(self._state)

    def start_proxy(self) -> None:
        """Start the proxy again on the same port and wait until it serves requests."""
        current = self._state.processes.get("proxy")
        if current is not None and processes.is_alive(current):
            return
        self._spawn_proxy()
        wait_ready(self._state, READY_TIMEOUT_S, self._log_dir)

    def is_running(self) -> bool:
        """True if every recorded server process is alive."""
        procs = self._state.processes.values()
        return bool(procs) and all(processes.is_alive(ref) for ref in procs)

    # -- what clients need ---------------------------------------------------------------

    @property
    def workdir(self) -> Path:
        return self._state.workdir

    @property
    def host(self) -> str:
        return self._state.host

    @property
    def proxy_port(self) -> int:
        return self._state.ports["proxy"]

    @property
    def url(self) -> str:
        """The proxy's base URL, e.g. http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.proxy_port}"

    @property
    def auth_url(self) -> str:
        """Tempauth's v1 auth URL: http://127.0.0.1:PORT/auth/v1.0."""
        return f"{self.url}/auth/v1.0"

    @property
    def users(self) -> tuple[TempauthUser, ...]:
        """The tempauth users; the first is the admin `test:tester`, the second has no rights."""
        return tuple(self._state.users)

    @property
    def user(self) -> str:
        return self._admin().user

    @property
    def key(self) -> str:
        return self._admin().key

    def environ(self) -> dict[str, str]:
        """ST_AUTH / ST_USER / ST_KEY for the admin user, as the `swift` CLI reads them."""
        return {"ST_AUTH": self.auth_url, "ST_USER": self.user, "ST_KEY": self.key}

    @property
    def pids(self) -> dict[str, int]:
        """Server name (proxy, account, container, object, ...) -> PID."""
        return {name: ref.pid for name, ref in self._state.processes.items()}

    @property
    def log_dir(self) -> Path:
        return self._log_dir

    def __repr__(self) -> str:
        return f"LocalSwift(workdir={str(self.workdir)!r}, url={self.url!r}, pids={self.pids})"

    # -- internals -------------------------------------------------------------------------

    @property
    def _log_dir(self) -> Path:
        return self._state.workdir / "logs"

    def _admin(self) -> TempauthUser:
        if not self._state.users:
            raise ConfigError("this local Swift has no tempauth users (custom auth pipeline)")
        return self._state.users[0]

    def _launch(self, layout: NodeLayout, auth: ProxyAuth, memcached_bin: str | None) -> None:
        """Configs, then memcached, backends and rings in parallel, then proxy and updater."""
        self._log_dir.mkdir(parents=True, exist_ok=True)
        (self._state.workdir / "cache").mkdir(exist_ok=True)  # Swift's recon cache
        config.write_configs(layout, auth)
        rings = self._build_rings_async()
        if memcached_bin:
            self._spawn("memcached", _memcached_argv(memcached_bin, self._state))
        for server in config.BACKENDS:
            self._spawn_swift(server, "server", server)
        try:
            _, err = rings.communicate(timeout=READY_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            rings.kill()
            raise ConfigError("building the Swift rings timed out") from exc
        if rings.returncode != 0:
            raise ConfigError(f"building the Swift rings failed: {err.strip()[-500:]}")
        self._spawn_proxy()
        self._spawn_swift("container-updater", "daemon", "container", "container-updater")
        wait_ready(self._state, READY_TIMEOUT_S, self._log_dir)

    def _build_rings_async(self) -> subprocess.Popen[str]:
        ports = self._state.ports
        argv = [
            *self._launcher_argv("rings"),
            self._state.host,
            str(ports["account"]),
            str(ports["container"]),
            str(ports["object"]),
        ]
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _launcher_argv(self, mode: str, log_name: str = "rings") -> list[str]:
        swift_dir = self._state.workdir / "etc"
        log_file = self._log_dir / f"{log_name}.log"
        python = venv_python(self._state.venv_dir)
        return [str(python), str(LAUNCHER), str(swift_dir), str(log_file), mode]

    def _spawn_proxy(self) -> None:
        processes.ensure_port_free(self._state.host, self._state.ports["proxy"])
        self._spawn_swift("proxy", "server", "proxy")

    def _spawn_swift(self, name: str, mode: str, conf: str, kind: str | None = None) -> None:
        conf_path = self._state.workdir / "etc" / f"{conf}-server.conf"
        argv = [*self._launcher_argv(mode, name), kind or name, str(conf_path)]
        self._spawn(name, argv)

    def _spawn(self, name: str, argv: list[str]) -> None:
        ref = processes.spawn(argv, self._log_dir / f"{name}.log", self._state.workdir)
        self._state.processes[name] = ref
        save_state(self._state)


def _refuse_running(workdir: Path) -> None:
    """A second start would rewrite the configs of the running one: refuse it."""
    if not (workdir / STATE_FILE).exists():
        return
    try:
        state = load_state(workdir)
    except ConfigError:
        return  # an unreadable state file belongs to no live Swift
    if any(processes.is_alive(ref) for ref in state.processes.values()):
        raise ConfigError(f"a local Swift is already running in {workdir}")


def _check_xattrs(device: Path) -> None:
    """Swift keeps object metadata in user xattrs; fail clearly where they do not work."""
    device.mkdir(parents=True, exist_ok=True)
    try:
        os.setxattr(device, _XATTR, b"1")
        os.removexattr(device, _XATTR)
    except OSError as exc:
        raise ConfigError(
            f"{device} does not support user extended attributes ({exc.strerror}); "
            "Swift needs them: use a directory on ext4, xfs or tmpfs"
        ) from exc


def _choose_ports(host: str, proxy_port: int | None, *, with_memcached: bool) -> dict[str, int]:
    if proxy_port is not None:
        processes.ensure_port_free(host, proxy_port)
    names = ["account", "container", "object"] + (["memcached"] if with_memcached else [])
    ports: dict[str, int] = {"proxy": proxy_port} if proxy_port is not None else {}
    # Hold every probe socket open until all are chosen, so the kernel gives distinct ports.
    with contextlib.ExitStack() as stack:
        for name in ([] if proxy_port is not None else ["proxy"]) + names:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports[name] = int(sock.getsockname()[1])
    return ports


def _memcached_argv(binary: str, state: SwiftState) -> list[str]:
    argv = [binary, "-l", state.host, "-p", str(state.ports["memcached"]), "-U", "0", "-m", "64"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]  # memcached refuses to run as root without -u
    return argv
