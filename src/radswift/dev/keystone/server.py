"""`LocalKeystone`: a real Keystone v3 on loopback, on SQLite, for the slower test tier.

Start = venv (cached) + keystone.conf + `keystone-manage` db_sync, fernet_setup,
credential_setup (in parallel), then bootstrap (an `admin` user, project and role, the
identity endpoint) while the WSGI server boots. Stop by PID. `restart()` keeps the
database and keys, so identities and issued tokens survive, and can change the token
lifetime (e.g. to a few seconds for a test of token renewal).

The bootstrap password goes through the environment, never argv (visible in `ps`); it is
a random throwaway value kept in `workdir/state.json` (mode 0600) so `attach()` works.
`keystone-manage` runs in the environment `start()` is given (the CLI and the test
fixtures pass os.environ) plus that password; nothing here reads the environment.
"""

from __future__ import annotations

import base64
import contextlib
import grp
import http.client
import json
import os
import pwd
import secrets
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from radswift.dev.keystone.config import KeystonePaths, KeystoneSettings, keystone_conf
from radswift.dev.keystone.venv import default_keystone_venv_dir, ensure_keystone_venv, venv_bin
from radswift.dev.swift import processes
from radswift.dev.swift.processes import ProcessRef
from radswift.errors import ConfigError, RadswiftError, StorageUnavailable

LAUNCHER = Path(__file__).with_name("_launcher.py")
READY_TIMEOUT_S = 120.0
MANAGE_TIMEOUT_S = 120.0
ADMIN_USER = "admin"
ADMIN_PROJECT = "admin"


@dataclass(kw_only=True)
class KeystoneState:
    """What `attach()` needs. `admin_password` is a random value made for this Keystone."""

    workdir: Path
    host: str
    port: int
    venv_dir: Path
    settings: KeystoneSettings
    admin_password: str
    process: ProcessRef | None = None

    def __repr__(self) -> str:
        return f"KeystoneState(workdir={str(self.workdir)!r}, port={self.port})"

    def save(self) -> None:
        data: dict[str, Any] = asdict(self)
        data.update(workdir=str(self.workdir), venv_dir=str(self.venv_dir))
        path = KeystonePaths(workdir=self.workdir).state
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2, sort_keys=True)
        tmp.replace(path)

    @classmethod
    def load(cls, workdir: Path) -> KeystoneState:
        path = KeystonePaths(workdir=workdir).state
        try:
            data = json.loads(path.read_text())
            return cls(
                workdir=Path(data["workdir"]),
                host=data["host"],
                port=int(data["port"]),
                venv_dir=Path(data["venv_dir"]),
                settings=KeystoneSettings(**data["settings"]),
                admin_password=data["admin_password"],
                process=ProcessRef(**data["process"]) if data["process"] else None,
            )
        except FileNotFoundError as exc:
            raise ConfigError(f"no local Keystone in {workdir} (no {path.name})") from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"unreadable {path}: {exc}") from exc


class LocalKeystone:
    """Handle on a running local Keystone; build it with `start()` or `attach()`."""

    def __init__(self, state: KeystoneState) -> None:
        self._state = state

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        settings: KeystoneSettings | None = None,
        venv_dir: Path | None = None,
        environ: Mapping[str, str],
    ) -> LocalKeystone:
        """Install (first time), configure, bootstrap and serve; return once /v3 answers.

        `port` None picks a free one; a busy port is refused (ConfigError). `venv_dir` None
        means `~/.cache/radswift/keystone-venv-30`. `environ`: what `keystone-manage`
        starts from (the caller's os.environ).
        """
        workdir = workdir.expanduser().resolve()
        _refuse_running(workdir)
        venv = (venv_dir or default_keystone_venv_dir()).expanduser()
        ensure_keystone_venv(venv)
        if port is None:
            port = _free_port(host)
        processes.ensure_port_free(host, port)
        state = KeystoneState(
            workdir=workdir,
            host=host,
            port=port,
            venv_dir=venv,
            settings=settings or KeystoneSettings(),
            admin_password=secrets.token_urlsafe(18),
        )
        keystone = cls(state)
        try:
            keystone._first_start(environ)
        except BaseException:
            with contextlib.suppress(RadswiftError):
                keystone.stop()
            raise
        return keystone

    @classmethod
    def attach(cls, workdir: Path) -> LocalKeystone:
        """The local Keystone recorded in `workdir/state.json` (ConfigError if none)."""
        return cls(KeystoneState.load(workdir.expanduser().resolve()))

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL); database and keys stay in `workdir`."""
        if self._state.process is not None:
            processes.stop_all([self._state.process])
            self._state.process = None
            self._state.save()
            processes.wait_port_released(self._state.host, self._state.port)

    def restart(self, settings: KeystoneSettings | None = None) -> None:
        """Stop, rewrite keystone.conf with `settings` (if given), serve again on the same port."""
        self.stop()
        if settings is not None:
            self._state.settings = settings
        self._write_conf()
        self._spawn_server()
        self._wait_ready()

    def with_token_expiration(self, seconds: int) -> None:
        """Restart with tokens that live `seconds` (no-op if already so)."""
        if self._state.settings.token_expiration != seconds:
            self.restart(replace(self._state.settings, token_expiration=seconds))

    def replace_token_keys(self) -> None:
        """Void every token issued so far, at once, while every credential stays valid.

        A fresh fernet key repository: Keystone reads it on each token operation, so old
        tokens no longer decrypt (validation answers 404) and new ones work immediately.
        Revocation events would not do here: they void tokens issued during the whole
        second of the event, including a client's immediate re-authentication."""
        keys = self._paths.fernet_keys
        for old in keys.iterdir():
            old.unlink()
        for index in ("0", "1"):  # 0: staged, 1: primary
            fd = os.open(keys / index, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(base64.urlsafe_b64encode(secrets.token_bytes(32)))

    def is_running(self) -> bool:
        ref = self._state.process
        return ref is not None and processes.is_alive(ref)

    # -- what clients need ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """The Keystone base URL, e.g. http://127.0.0.1:PORT (the auth URL is `url + /v3`)."""
        return f"http://{self._state.host}:{self._state.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/v3"

    @property
    def admin_password(self) -> str:
        return self._state.admin_password

    @property
    def settings(self) -> KeystoneSettings:
        return self._state.settings

    @property
    def workdir(self) -> Path:
        return self._state.workdir

    @property
    def log_dir(self) -> Path:
        return self._paths.log_dir

    @property
    def pid(self) -> int | None:
        return self._state.process.pid if self._state.process else None

    def __repr__(self) -> str:
        return f"LocalKeystone(url={self.url!r}, pid={self.pid})"

    # -- internals ------------------------------------------------------------------------

    @property
    def _paths(self) -> KeystonePaths:
        return KeystonePaths(workdir=self._state.workdir)

    def _first_start(self, environ: Mapping[str, str]) -> None:
        paths = self._paths
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        self._write_conf()
        self._state.save()
        env = {**environ, "OS_BOOTSTRAP_PASSWORD": self._state.admin_password}
        setup = (["db_sync"], _keys_setup("fernet_setup"), _keys_setup("credential_setup"))
        self._manage_all(env, *setup)
        bootstrap = self._manage_start(self._bootstrap_args(), "bootstrap", env)
        self._spawn_server()  # boots (~10 s of imports) while bootstrap fills the database
        self._finish(bootstrap, "bootstrap")
        self._wait_ready()

    def _write_conf(self) -> None:
        conf = self._paths.conf
        conf.write_text(keystone_conf(self._paths, self._state.settings))
        conf.chmod(0o600)

    def _bootstrap_args(self) -> list[str]:
        url = self.auth_url
        return [
            "bootstrap",
            "--bootstrap-username", ADMIN_USER,
            "--bootstrap-project-name", ADMIN_PROJECT,
            "--bootstrap-role-name", "admin",
            "--bootstrap-service-name", "keystone",
            "--bootstrap-region-id", self._state.settings.region,
            "--bootstrap-admin-url", url,
            "--bootstrap-internal-url", url,
            "--bootstrap-public-url", url,
        ]  # fmt: skip

    def _manage_start(
        self, args: list[str], name: str, env: Mapping[str, str]
    ) -> subprocess.Popen[bytes]:
        argv = [str(venv_bin(self._state.venv_dir, "keystone-manage")), "--config-file"]
        with (self._paths.log_dir / f"manage-{name}.log").open("ab") as log:
            return subprocess.Popen(
                [*argv, str(self._paths.conf), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self._state.workdir,
            )

    def _manage_all(self, env: Mapping[str, str], *steps: list[str]) -> None:
        running = [(self._manage_start(step, step[0], env), step[0]) for step in steps]
        for proc, name in running:
            self._finish(proc, name)

    def _finish(self, proc: subprocess.Popen[bytes], name: str) -> None:
        try:
            code = proc.wait(timeout=MANAGE_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.wait()
            raise ConfigError(f"keystone-manage {name} timed out") from exc
        if code != 0:
            tail = _log_tail(self._paths.log_dir / f"manage-{name}.log")
            raise ConfigError(f"keystone-manage {name} failed (exit {code}): {tail}")

    def _spawn_server(self) -> None:
        state = self._state
        processes.ensure_port_free(state.host, state.port)
        argv = [
            str(venv_bin(state.venv_dir, "python")),
            str(LAUNCHER),
            str(self._paths.conf),
            state.host,
            str(state.port),
            str(state.settings.threads),
        ]
        state.process = processes.spawn(argv, self._paths.log_dir / "server.log", state.workdir)
        state.save()

    def _wait_ready(self) -> None:
        """Until GET /v3 answers 200; a dead server is reported at once with its log."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        problem: str | None = "not probed yet"
        while time.monotonic() < deadline:
            if not self.is_running():
                tail = _log_tail(self._paths.log_dir / "server.log")
                raise StorageUnavailable(f"local Keystone exited during start: {tail}")
            problem = _probe(self._state.host, self._state.port)
            if problem is None:
                return
            time.sleep(0.1)
        raise StorageUnavailable(
            f"local Keystone at {self.url} not ready after {READY_TIMEOUT_S:.0f} s: {problem} "
            f"(logs in {self._paths.log_dir})"
        )


def _refuse_running(workdir: Path) -> None:
    """A second start would rewrite the config and reset the admin password of a live one."""
    if not KeystonePaths(workdir=workdir).state.exists():
        return
    with contextlib.suppress(ConfigError):
        if LocalKeystone.attach(workdir).is_running():
            raise ConfigError(f"a local Keystone is already running in {workdir}")


def _keys_setup(command: str) -> list[str]:
    """fernet_setup/credential_setup chown the keys to a user: the one running us."""
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return [command, "--keystone-user", user, "--keystone-group", group]


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _probe(host: str, port: int) -> str | None:
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", "/v3")
        resp = conn.getresponse()
        resp.read()
        return None if resp.status == 200 else f"GET /v3 answered {resp.status}"
    except (OSError, http.client.HTTPException) as exc:
        return f"not answering ({exc})"
    finally:
        conn.close()


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    wanted = [line for line in text.strip().splitlines() if "eventlet" not in line.lower()]
    return " | ".join(wanted[-lines:]) or "(empty log)"
