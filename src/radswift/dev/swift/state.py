"""`workdir/state.json`: what a running local Swift is made of, so another process can attach.

It holds ports, PIDs (with start times) and the tempauth credentials of the test users;
those credentials are throwaway test values, and the file is written with mode 0600.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from radswift.dev.swift.config import TempauthUser
from radswift.dev.swift.processes import ProcessRef
from radswift.errors import ConfigError

STATE_FILE = "state.json"


@dataclass(kw_only=True)
class SwiftState:
    """Everything `LocalSwift.attach` needs; `processes` maps a server name to its process."""

    workdir: Path
    host: str
    venv_dir: Path
    ports: dict[str, int]
    users: list[TempauthUser]
    memcached: bool
    processes: dict[str, ProcessRef] = field(default_factory=dict)

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["workdir"] = str(self.workdir)
        data["venv_dir"] = str(self.venv_dir)
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SwiftState:
        data = json.loads(text)
        return cls(
            workdir=Path(data["workdir"]),
            host=data["host"],
            venv_dir=Path(data["venv_dir"]),
            ports={k: int(v) for k, v in data["ports"].items()},
            users=[TempauthUser(**u) for u in data["users"]],
            memcached=bool(data["memcached"]),
            processes={k: ProcessRef(**v) for k, v in data["processes"].items()},
        )


def save_state(state: SwiftState) -> None:
    """Write atomically (tmp + rename) so a reader never sees half a file."""
    path = state.workdir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(state.to_json())
    tmp.replace(path)


def load_state(workdir: Path) -> SwiftState:
    path = workdir / STATE_FILE
    try:
        return SwiftState.from_json(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"no local Swift in {workdir} (no {STATE_FILE})") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"unreadable {path}: {exc}") from exc
