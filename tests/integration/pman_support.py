"""Running the real `pman` command for tests, and talking to it with httpx.

`Pman.start(...)` runs the installed `pman` script in a subprocess on a free loopback port
(it prints the URL it listens on), waits for /healthz, and can be stopped with SIGTERM or
killed with SIGKILL; `restart()` starts it again on the same registry and jobs directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from radswift.jobs.local import LocalBackend

PMAN = str(Path(sys.executable).parent / "pman")
FINISHED = ("finishedSuccessfully", "finishedWithError")


def new_jid(kind: str = "job") -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"  # not slug-<10 hex>: job_name keeps it


@dataclass
class Pman:
    """One running pman; `args` are its flags (without --port/--db/--jobs-dir)."""

    directory: Path
    args: list[str]
    env: Mapping[str, str]
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    runner: list[str] = field(default_factory=list)
    """What pman's argv is prefixed with (e.g. setpriv, to run it as another user)."""

    @classmethod
    def start(cls, directory: Path, *args: str, env: Mapping[str, str] | None = None) -> Pman:
        directory.mkdir(parents=True, exist_ok=True)
        pman = cls(directory, list(args), {**os.environ, **(env or {})})
        pman.launch()
        return pman

    @classmethod
    def local(
        cls,
        directory: Path,
        *args: str,
        store: Path | None = None,
        isolation: str = "none",
        emissary: Path | None = None,
    ) -> Pman:
        """pman on the local backend and a local store (default DIRECTORY/store), with the
        emissary built into DIRECTORY/emissary unless one is given."""
        if emissary is None:
            emissary = LocalBackend(directory / "emissary", environ={}).ensure_emissary()
        return cls.start(directory, "--storeBase", str(store or directory / "store"),
                         "--isolation", isolation, "--emissary", str(emissary), *args)  # fmt: skip

    def launch(self) -> None:
        argv = [*self.runner, PMAN, "--port", "0", "--db", str(self.directory / "registry.db"),
                "--jobs-dir", str(self.directory / "jobs"), *self.args]  # fmt: skip
        log = (self.directory / "pman.log").open("ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=log, env=dict(self.env))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = self._listening()
            if found:
                self.url = found
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"pman exited {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.05)
        else:
            raise RuntimeError(f"pman did not say where it listens:\n{self.log()}")
        while self.client.get(f"{self.url}/healthz").status_code != 200:  # lifespan done
            time.sleep(0.05)

    def _listening(self) -> str | None:
        for line in self.log().splitlines()[::-1]:
            if "pman: listening on " in line:
                url = line.split("listening on ", 1)[1].split()[0]
                if self.url != url:
                    return url
        return None

    def log(self) -> str:
        path = self.directory / "pman.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def restart(self) -> None:
        self.launch()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
        self.client.close()

    # --- the API ------------------------------------------------------------------------

    def submit(self, **fields: Any) -> httpx.Response:
        return self.client.post(f"{self.url}/api/v1/jobs", json=fields)

    def job(self, jid: str) -> dict[str, Any]:
        reply = self.client.get(f"{self.url}/api/v1/jobs/{jid}")
        assert reply.status_code == 200, reply.text
        return reply.json()  # type: ignore[no-any-return]

    def logs(self, jid: str, step: str, **params: Any) -> str:
        reply = self.client.get(f"{self.url}/api/v1/jobs/{jid}/logs/{step}", params=params)
        assert reply.status_code == 200, reply.text
        return reply.text

    def wait(
        self, jid: str, timeout: float = 60, until: Callable[[dict[str, Any]], bool] | None = None
    ) -> dict[str, Any]:
        """The job once `until(job)` holds (default: it finished); fails after `timeout`."""
        until = until or (lambda job: job["status"] in FINISHED)
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(jid)
            if until(job):
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {jid} still {job['status']} after {timeout} s: {job}")
            time.sleep(0.05)


def script_job(jid: str, script: str, **fields: Any) -> dict[str, Any]:
    """A job whose processor is `sh -c SCRIPT` (the plugin's directories follow as $0, $1);
    the script may name /share/incoming and /share/outgoing, as in a container."""
    return {"jid": jid, "image": "host", "entrypoint": ["sh", "-c", script], **fields}
